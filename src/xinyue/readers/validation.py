"""Validating what a reader types: ID number (GB 11643 via python-stdnum ``cn.ric``), name, phone.

Each check returns the normalised value or raises ``InvalidInput`` naming the field. Messages
never echo the value back (it may be an ID number).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import ValidationError

from xinyue.core import clock
from xinyue.core.errors import InvalidInput
from xinyue.libraries import divisions

MAX_AGE_YEARS = 120


@dataclass(frozen=True)
class IdNumber:
    """A validated resident ID number and the facts derived from it."""

    number: str  # always the 18-character form
    birth_date: dt.date
    gender: str  # "female" | "male"
    region_code: str
    converted_from_15: bool = False

    @property
    def birth_year(self) -> int:
        return self.birth_date.year

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        return years - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))


def upgrade_15_to_18(number: str) -> str:
    """A first-generation 15-digit number (``RRRRRRYYMMDDSSS``, born 19YY) as its 18-character
    second-generation form: ``19`` inserted before the year, and the ISO 7064 MOD 11-2 check
    character appended — exactly the number the holder was given when cards were reissued."""
    body = number[:6] + "19" + number[6:]
    return body + ric.calc_check_digit(body + "0")


def region_code_possible(code: str, birth_year: int) -> bool:
    """Whether ``code`` is a county-level division code (python-stdnum's GB/T 2260 history) that
    still existed in or after ``birth_year``.

    The address code is the one of the holder's residence when the number was *first assigned*
    (GB 11643), which is the birth year or any later year — the 1980s–90s for people born before
    the codes existed. ``stdnum.cn.ric.validate`` instead requires the code to have been valid in
    the birth year, which refuses real numbers (西湖区 330106 exists since 1983: everyone from
    Hangzhou's 西湖区 born before 1983 would be refused), so the rule here is: some validity
    period of the code ends in or after the birth year (or has not ended)."""
    results = numdb.get("cn/loc").info(code)
    counties = [v for _part, props in results for k, v in props.items() if k == "county"]
    if not counties:
        return False
    for entry in ",".join(counties).split(","):
        if not entry.startswith("["):
            return True
        period = entry[1:].split("]", 1)[0]
        _start, _sep, end = period.partition("-")
        if not end or int(end) >= birth_year:
            return True
    return False


def _id_error(message: str) -> InvalidInput:
    return InvalidInput(fields={"id_number": message})


def parse_id_number(raw: str, *, today: dt.date | None = None) -> IdNumber:
    """Validate an ID number; 15-digit numbers are converted to their 18-character form."""
    today = today or clock.today()
    number = ric.compact(raw or "").replace(" ", "").replace("-", "")
    if not number:
        raise _id_error(_("请填写身份证号"))
    converted = False
    if len(number) == 15:
        if not number.isdigit():
            raise _id_error(_("15位身份证号只能由数字组成"))
        number = upgrade_15_to_18(number)
        converted = True
    if len(number) != 18:
        raise _id_error(_("身份证号应为18位（或15位旧号）"))
    if not number[:17].isdigit() or not (number[17].isdigit() or number[17] == "X"):
        raise _id_error(_("身份证号格式不正确：前17位为数字，最后一位为数字或X"))
    try:
        birth = ric.get_birth_date(number)
    except ValidationError:
        raise _id_error(_("身份证号中的出生日期不存在")) from None
    if birth > today:
        raise _id_error(_("身份证号中的出生日期晚于今天"))
    if birth.year < today.year - MAX_AGE_YEARS:
        raise _id_error(_("身份证号中的出生日期不合理"))
    if number[-1] != ric.calc_check_digit(number):
        raise _id_error(_("身份证号校验位不正确，请核对"))
    if not region_code_possible(number[:6], birth.year):
        raise _id_error(_("身份证号中的地区代码无效"))
    return IdNumber(
        number=number,
        birth_date=birth,
        gender="male" if int(number[16]) % 2 else "female",
        region_code=number[:6],
        converted_from_15=converted,
    )


def check_registration_age(parsed: IdNumber, *, today: dt.date | None = None) -> None:
    """Online self-registration is for readers aged ``XINYUE_READER_MIN_AGE`` (14) or more: a
    younger child's data is all sensitive and needs a guardian's consent (PIPL art. 28, 31),
    which the library collects at its desk."""
    minimum = settings.XINYUE_READER_MIN_AGE
    if parsed.age_on(today or clock.today()) < minimum:
        raise _id_error(
            _("未满%(age)d周岁的读者请由监护人陪同到图书馆服务台办理") % {"age": minimum}
        )


_NAME_RE = re.compile(
    r"^[\u3400-\u9fffA-Za-z][\u3400-\u9fffA-Za-z·•. ]{0,28}[\u3400-\u9fffA-Za-z]$"
)


def clean_name(raw: str) -> str:
    """A real name: 2–30 characters of Chinese or Latin letters, with ``·`` between the parts of
    names of ethnic minorities or foreigners."""
    name = re.sub(r"\s+", " ", (raw or "").strip()).replace("•", "·")
    if not name:
        raise InvalidInput(fields={"name": _("请填写姓名")})
    if not _NAME_RE.match(name):
        raise InvalidInput(fields={"name": _("姓名应为2至30个汉字或字母（少数民族姓名可含“·”）")})
    return name


_PHONE_RE = re.compile(r"^1[3-9]\d{9}$")


def clean_phone(raw: str) -> str:
    """A mainland mobile number, ``+86``/spaces/hyphens removed: ``13812345678``."""
    phone = re.sub(r"[\s\-()]", "", raw or "")
    if phone.startswith("+86"):
        phone = phone[3:]
    elif phone.startswith("0086"):
        phone = phone[4:]
    if not phone:
        raise InvalidInput(fields={"phone": _("请填写手机号")})
    if not _PHONE_RE.match(phone):
        raise InvalidInput(fields={"phone": _("手机号应为11位，以1开头")})
    return phone


ADDRESS_DETAIL_CHARS = (4, 200)


def clean_address_detail(raw: str) -> str:
    """The street part of a delivery address: whitespace runs folded to one space, 4–200
    characters (the address book and an order's one-off address share this rule)."""
    detail = " ".join((raw or "").split())
    if not detail:
        raise InvalidInput(fields={"detail": _("请填写详细地址")})
    if not ADDRESS_DETAIL_CHARS[0] <= len(detail) <= ADDRESS_DETAIL_CHARS[1]:
        raise InvalidInput(fields={"detail": _("详细地址应为4至200个字")})
    return detail


_DISTRICT_RE = re.compile(r"^\d{6}$")


def clean_district_code(raw: str) -> str:
    """A delivery district: a county-level division code (GB/T 2260) inside Zhejiang, the only
    province the platform delivers to."""
    code = (raw or "").strip()
    if not code:
        raise InvalidInput(fields={"district_code": _("请选择区县")})
    if not _DISTRICT_RE.match(code):
        raise InvalidInput(fields={"district_code": _("区县代码应为6位数字")})
    if not divisions.is_in_province(code):
        raise InvalidInput(fields={"district_code": _("只能配送到浙江省内的地址")})
    if divisions.district(code) is None:
        raise InvalidInput(fields={"district_code": _("请选择浙江省内的区县")})
    return code
