"""Catalog import from MARC: MARC21 (ISO 2709, UTF-8), MARCXML, CNMARC (ISO 2709, GB18030).
The files in ``fixtures/`` were written with pymarc by ``fixtures/make_marc.py``."""

from __future__ import annotations

from pathlib import Path

import pytest

from xinyue.catalog.importers.clc import category_for_clc
from xinyue.catalog.models import Offer, Title
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.services.imports import import_catalog
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import InvalidInput
from xinyue.suppliers.services import create_supplier

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture
def xinhua(db):
    return create_supplier(actor=SYSTEM, code="zjxinhua", name="浙江省新华书店")


def run(supplier, name: str, **kwargs):
    data = (FIXTURES / name).read_bytes()
    return import_catalog(actor=SYSTEM, supplier=supplier, file=data, filename=name, **kwargs)


def test_marc21_iso2709(xinhua):
    result = run(xinhua, "marc21.mrc")
    assert (result.format, result.created, result.updated) == ("iso2709", 2, 0)
    assert [(r.position, r.reason) for r in result.rejected] == [
        (
            "第 3 条记录",
            "ISBN 校验位错误（9787020024758）；缺少定价；缺少分类（无分类名，也无法从中图法分类号确定）",
        )
    ]
    weicheng = Title.objects.get(isbn13="9787020024759")
    assert (weicheng.title, weicheng.authors, weicheng.publisher, weicheng.year) == (
        "围城",
        ["钱锺书"],
        "人民文学出版社",
        1991,
    )
    assert (weicheng.edition, weicheng.pages, weicheng.list_price_fen) == ("第2版", 359, 3900)
    assert (weicheng.clc_class, weicheng.category.name) == ("I246.5", "中国现当代小说")
    assert weicheng.subjects == "长篇小说"
    assert weicheng.summary == "钱锺书唯一的长篇小说。"
    clean = Title.objects.get(isbn13="9780132350884")
    assert (clean.title, clean.subtitle) == (
        "Clean code",
        "a handbook of agile software craftsmanship",
    )
    assert (clean.authors, clean.publisher, clean.year, clean.pages) == (
        ["Martin, Robert C"],
        "Prentice Hall",
        2009,
        431,
    )
    assert clean.category.name == "软件工程"
    assert clean.subjects == "Agile software development; Computer software"
    assert Offer.objects.get(title=clean).stock == 0
    assert [t.title for t in search_titles(query="clean code").items] == ["Clean code"]


def test_marcxml(xinhua):
    result = run(xinhua, "marc21.xml")
    assert (result.format, result.created) == ("marcxml", 1)
    assert [(r.position, r.reason) for r in result.rejected] == [("第 2 条记录", "缺少题名")]
    baiye = Title.objects.get(isbn13="9787544258609")
    assert (baiye.title, baiye.authors, baiye.year, baiye.category.name) == (
        "白夜行",
        ["东野圭吾", "刘姿君"],
        2013,
        "外国小说",
    )
    assert [t.title for t in search_titles(query="dygw").items] == ["白夜行"]


def test_cnmarc_in_gb18030(xinhua):
    result = run(xinhua, "cnmarc_gbk.iso")
    assert (result.format, result.created) == ("iso2709", 2)
    assert [(r.position, r.reason) for r in result.rejected] == [
        ("第 3 条记录", "出版年不合理（3012）")
    ]
    jieyou = Title.objects.get(isbn13="9787544270878")
    assert (jieyou.title, jieyou.authors, jieyou.publisher, jieyou.year) == (
        "解忧杂货店",
        ["东野圭吾", "李盈春"],
        "南海出版公司",
        2014,
    )
    assert (jieyou.edition, jieyou.pages, jieyou.list_price_fen) == ("2版", 291, 3950)
    assert (jieyou.clc_class, jieyou.category.name, jieyou.subjects) == (
        "I313.45",
        "外国小说",
        "长篇小说",
    )
    assert jieyou.summary == "僻静街道旁的杂货店，帮人解决烦恼。"
    santi = Title.objects.get(isbn13="9787536692930")
    assert (santi.title, santi.authors, santi.year, santi.category.name) == (
        "三体",
        ["刘慈欣"],
        2008,
        "中国现当代小说",
    )
    assert {t.title for t in search_titles(query="忧杂").items} == {"解忧杂货店"}


def test_reimporting_marc_updates_in_place(xinhua):
    run(xinhua, "cnmarc_gbk.iso")
    again = run(xinhua, "cnmarc_gbk.iso")
    assert (again.created, again.updated, len(again.rejected)) == (0, 2, 1)
    assert Title.objects.count() == 2
    assert Offer.objects.count() == 2


def test_a_default_category_for_records_without_a_class(xinhua):
    result = run(xinhua, "marc21.mrc", default_category="文学")
    assert result.rejected[0].reason == "ISBN 校验位错误（9787020024758）；缺少定价"
    with pytest.raises(InvalidInput) as raised:
        run(xinhua, "marc21.mrc", default_category="没有")
    assert raised.value.fields == {"default_category": "未知分类（没有）"}


def test_a_damaged_record_is_rejected_and_the_others_imported(xinhua):
    data = (FIXTURES / "marc21.mrc").read_bytes()
    first_end = data.index(b"\x1d") + 1
    damaged = b"00099nam a2200037   4500" + b"xx\x1e\x1d"
    result = import_catalog(
        actor=SYSTEM, supplier=xinhua, file=damaged + data[:first_end], filename="mixed.mrc"
    )
    assert result.created == 1
    assert len(result.rejected) == 1
    assert result.rejected[0].position == "第 1 条记录"
    assert result.rejected[0].reason.startswith("记录损坏，无法解析")


@pytest.mark.parametrize(
    ("clc", "category"),
    [
        ("I313.45", "外国小说"),
        ("I247.55", "中国现当代小说"),
        ("TP311.561", "编程语言"),
        ("TP18", "人工智能"),
        ("K248", "中国史"),
        ("F830.91", "股票"),
        ("R2", "中医"),
        ("Z", "词典/工具书"),
        ("", None),
        ("??", None),
    ],
)
def test_clc_classes_map_to_the_finest_category(clc, category):
    assert category_for_clc(clc) == category
