"""Administrative divisions (GB/T 2260) for address pickers: the provinces of China, and
Zhejiang's cities and county-level divisions from the bundled library file (``data/zhejiang.csv``,
column ``division``), the same codes the member-library tree is keyed by.

Only Zhejiang is listed below the province level: the platform delivers inside the province only
(DESIGN §4), so a picker never needs another province's cities.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

BUNDLED_FILE = Path(__file__).resolve().parent / "data" / "zhejiang.csv"
PROVINCE_CODE = "330000"

# Provincial-level divisions, GB/T 2260 (first two digits + "0000").
PROVINCES: tuple[tuple[str, str], ...] = (
    ("110000", "北京市"),
    ("120000", "天津市"),
    ("130000", "河北省"),
    ("140000", "山西省"),
    ("150000", "内蒙古自治区"),
    ("210000", "辽宁省"),
    ("220000", "吉林省"),
    ("230000", "黑龙江省"),
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
    ("340000", "安徽省"),
    ("350000", "福建省"),
    ("360000", "江西省"),
    ("370000", "山东省"),
    ("410000", "河南省"),
    ("420000", "湖北省"),
    ("430000", "湖南省"),
    ("440000", "广东省"),
    ("450000", "广西壮族自治区"),
    ("460000", "海南省"),
    ("500000", "重庆市"),
    ("510000", "四川省"),
    ("520000", "贵州省"),
    ("530000", "云南省"),
    ("540000", "西藏自治区"),
    ("610000", "陕西省"),
    ("620000", "甘肃省"),
    ("630000", "青海省"),
    ("640000", "宁夏回族自治区"),
    ("650000", "新疆维吾尔自治区"),
    ("710000", "台湾省"),
    ("810000", "香港特别行政区"),
    ("820000", "澳门特别行政区"),
)


@dataclass(frozen=True)
class Division:
    code: str
    name: str
    level: str  # "province" | "city" | "district" (any county-level division)
    parent_code: str


@lru_cache(maxsize=1)
def _zhejiang() -> dict[str, Division]:
    with BUNDLED_FILE.open(encoding="utf-8-sig", newline="") as handle:
        return {
            row["code"]: Division(row["code"], row["division"], row["level"], row["parent_code"])
            for row in csv.DictReader(handle)
        }


def province_of(code: str) -> str:
    """The provincial-level code a division code belongs to ("330106" → "330000")."""
    return code[:2] + "0000"


def is_in_province(code: str) -> bool:
    return province_of(code) == PROVINCE_CODE


def cities() -> list[Division]:
    """Zhejiang's 11 cities, in code order."""
    return sorted((d for d in _zhejiang().values() if d.level == "city"), key=lambda d: d.code)


def districts(city_code: str) -> list[Division]:
    """The county-level divisions of one of Zhejiang's cities, in code order ([] for others)."""
    return sorted(
        (d for d in _zhejiang().values() if d.level == "district" and d.parent_code == city_code),
        key=lambda d: d.code,
    )


def district(code: str) -> Division | None:
    """A county-level division of Zhejiang by code, else None."""
    found = _zhejiang().get(code)
    return found if found is not None and found.level == "district" else None


def full_name(code: str) -> str:
    """ "浙江省杭州市西湖区" for a district code ("" for a code we do not know)."""
    found = district(code)
    if found is None:
        return ""
    city = _zhejiang()[found.parent_code]
    return _zhejiang()[PROVINCE_CODE].name + city.name + found.name
