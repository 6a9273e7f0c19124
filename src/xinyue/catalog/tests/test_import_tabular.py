"""Catalog import from CSV and XLSX: good and bad records, re-import in place, encodings,
permissions, the ``import-catalog`` command (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook

from xinyue.accounts.selectors import actor_for_user
from xinyue.accounts.services import create_supplier_user
from xinyue.catalog.models import Offer, SearchDocument, Title
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.services.imports import clean_author, import_catalog
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.suppliers.services import create_supplier

HEADER = "isbn,title,authors,publisher,year,category,list_price,stock,summary\n"
GOOD = (
    "978-7-02-002475-9,围城,钱锺书,人民文学出版社,1991,中国现当代小说,39.00,12,方鸿渐的故事\n"
    "7544258602,白夜行,(日)东野圭吾 著;刘姿君 译,南海出版公司,2013,侦探/悬疑/推理,39.50,3,\n"
    "9787536692930,三体,刘慈欣,重庆出版社,2008,文学 › 科幻,23.00,,\n"
)


@pytest.fixture
def xinhua(db):
    return create_supplier(actor=SYSTEM, code="zjxinhua", name="浙江省新华书店")


def run(supplier, text: str, *, actor=SYSTEM, filename: str = "books.csv", encoding="utf-8"):
    return import_catalog(
        actor=actor, supplier=supplier, file=(HEADER + text).encode(encoding), filename=filename
    )


def test_good_records_become_titles_offers_and_search_hits(xinhua):
    result = run(xinhua, GOOD)
    assert (result.created, result.updated, result.rejected) == (3, 0, [])
    weicheng = Title.objects.get(isbn13="9787020024759")
    assert (weicheng.title, weicheng.authors, weicheng.publisher, weicheng.year) == (
        "围城",
        ["钱锺书"],
        "人民文学出版社",
        1991,
    )
    assert (weicheng.isbn10, weicheng.list_price_fen, weicheng.category.name) == (
        "7020024750",
        3900,
        "中国现当代小说",
    )
    assert weicheng.summary == "方鸿渐的故事"
    baiye = Title.objects.get(isbn13="9787544258609")
    assert baiye.authors == ["东野圭吾", "刘姿君"]
    assert baiye.authors_display == "东野圭吾、刘姿君"
    assert Title.objects.get(isbn13="9787536692930").category.name == "科幻"
    offers = {o.title.title: (o.stock, o.price_fen) for o in Offer.objects.select_related("title")}
    assert offers == {"围城": (12, 3900), "白夜行": (3, 3950), "三体": (0, 2300)}
    assert [t.title for t in search_titles(query="dygw").items] == ["白夜行"]
    assert SearchDocument.objects.count() == 3
    entry = AuditEntry.objects.get(action="catalog.imported")
    assert entry.detail == {
        "filename": "books.csv",
        "format": "csv",
        "created": 3,
        "updated": 0,
        "rejected": 0,
    }


BAD = (
    "9787020024758,校验位错,某人,某社,2020,文学,10.00,1,\n"
    "12345,短号,某人,某社,2020,文学,10.00,1,\n"
    ",没有书号,某人,某社,2020,文学,10.00,1,\n"
    "9787111407010,,某人,某社,2020,文学,10.00,1,\n"
    "9787111544937,价格不对,某人,某社,2020,文学,abc,1,\n"
    "9787508647357,零价格,某人,某社,2020,文学,0,1,\n"
    "9787101052039,没有价格,某人,某社,2020,文学,,1,\n"
    "9787532742929,未来的书,某人,某社,3000,文学,10.00,1,\n"
    "9787535732309,分类不存在,某人,某社,2020,玄幻修真,10.00,1,\n"
    "9787508684031,负库存,某人,某社,2020,文学,10.00,-1,\n"
    "9787229030933,多个问题,某人,某社,19xx,不存在,-5,x,\n"
)


def test_bad_records_are_rejected_with_reasons_and_the_batch_goes_on(xinhua):
    result = run(xinhua, BAD + GOOD)
    assert (result.created, result.updated) == (3, 0)
    assert [(r.position, r.reason) for r in result.rejected] == [
        ("第 2 行", "ISBN 校验位错误（9787020024758）"),
        ("第 3 行", "ISBN 格式错误（12345）"),
        ("第 4 行", "缺少 ISBN"),
        ("第 5 行", "缺少题名"),
        ("第 6 行", "定价有误：“abc”不是金额"),
        ("第 7 行", "定价不合理（0）"),
        ("第 8 行", "缺少定价"),
        ("第 9 行", "出版年不合理（3000）"),
        ("第 10 行", "未知分类（玄幻修真）"),
        ("第 11 行", "库存应为 0–1000000 的整数（-1）"),
        (
            "第 12 行",
            "出版年不合理（19xx）；定价有误：金额不能为负数；"
            "库存应为 0–1000000 的整数（x）；未知分类（不存在）",
        ),
    ]
    assert Title.objects.count() == 3
    assert result.rejected[0].isbn == "9787020024758"
    assert result.rejected[0].title == "校验位错"


def test_reimporting_updates_in_place(xinhua):
    run(xinhua, GOOD)
    changed = (
        "9787020024759,围城（典藏版）,钱锺书,人民文学出版社,2017,中国现当代小说,59.00,4,\n"
        "9787544258609,白夜行,东野圭吾,南海出版公司,2013,侦探/悬疑/推理,39.50,,\n"
    )
    result = run(xinhua, changed)
    assert (result.created, result.updated, result.rejected) == (0, 2, [])
    assert Title.objects.count() == 3
    weicheng = Title.objects.get(isbn13="9787020024759")
    assert (weicheng.title, weicheng.year, weicheng.list_price_fen) == (
        "围城（典藏版）",
        2017,
        5900,
    )
    assert weicheng.summary == "方鸿渐的故事"  # a blank field keeps what was there
    assert Offer.objects.get(title=weicheng).stock == 4
    assert Offer.objects.get(title__isbn13="9787544258609").stock == 3  # blank stock: unchanged
    assert Title.objects.get(isbn13="9787544258609").authors == ["东野圭吾"]
    assert [t.title for t in search_titles(query="典藏").items] == ["围城（典藏版）"]
    assert Offer.objects.count() == 3


def test_a_second_supplier_gets_its_own_offer(xinhua):
    run(xinhua, GOOD)
    other = create_supplier(actor=SYSTEM, code="bookuu", name="博库书城")
    result = run(other, "9787020024759,围城,钱锺书,人民文学出版社,1991,中国现当代小说,39.00,2,\n")
    assert (result.created, result.updated) == (0, 1)
    assert sorted(
        Offer.objects.filter(title__isbn13="9787020024759").values_list("stock", flat=True)
    ) == [2, 12]


def test_gb18030_csv_with_chinese_headers(xinhua):
    data = (
        "书号,书名,作者,出版社,出版年,分类,定价,库存,简介\n"
        "9787506365437,活着,余华,作家出版社,2012,中国现当代小说,20.00,5,福贵的一生\n"
    ).encode("gb18030")
    result = import_catalog(actor=SYSTEM, supplier=xinhua, file=data, filename="目录.csv")
    assert (result.created, result.rejected) == (1, [])
    assert Title.objects.get(isbn13="9787506365437").summary == "福贵的一生"


def test_xlsx(xinhua):
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER.strip().split(","))
    sheet.append([9787506365437, "活着", "余华", "作家出版社", 2012, "中国现当代小说", 20, 5, ""])
    sheet.append(
        ["9787536692930", "三体", "刘慈欣", "重庆出版社", 2008.0, "科幻", 23.5, None, None]
    )
    sheet.append([None, None, None, None, None, None, None, None, None])
    sheet.append(["9787536692931", "坏书号", "某人", "某社", 2008, "科幻", 23.5, 1, None])
    buffer = io.BytesIO()
    book.save(buffer)
    result = import_catalog(
        actor=SYSTEM, supplier=xinhua, file=buffer.getvalue(), filename="catalog.xlsx"
    )
    assert (result.format, result.created) == ("xlsx", 2)
    assert [(r.position, r.reason) for r in result.rejected] == [
        ("第 5 行", "ISBN 校验位错误（9787536692931）")
    ]
    assert Title.objects.get(isbn13="9787536692930").list_price_fen == 2350
    assert Offer.objects.get(title__isbn13="9787506365437").stock == 5


@pytest.mark.parametrize(
    ("data", "filename", "message"),
    [
        (b"", "empty.csv", "文件为空"),
        (
            b"name,price\nx,1\n",
            "books.csv",
            "表头缺少必需的列：isbn、title"
            "（应为 isbn,title,authors,publisher,year,category,list_price,stock,summary）",
        ),
        (b"\xff\xfe\x00\x01garbage", "books.csv", "无法识别文件编码（应为 UTF-8 或 GB18030）"),
        (b"PK\x03\x04not really a zip", "books.xlsx", "无法读取 Excel 文件：BadZipFile"),
        (b"<not xml", "books.xml", "无法解析 MARCXML：SAXParseException"),
        (b"hello", "books.mrc", "不是 ISO 2709 MARC 文件（记录头无效）"),
    ],
)
def test_an_unreadable_file_is_refused_and_changes_nothing(xinhua, data, filename, message):
    with pytest.raises(InvalidInput) as raised:
        import_catalog(actor=SYSTEM, supplier=xinhua, file=data, filename=filename)
    assert raised.value.fields == {"file": message}
    assert Title.objects.count() == 0
    assert not AuditEntry.objects.filter(action="catalog.imported").exists()


def test_only_the_operator_or_the_suppliers_own_staff_may_import(xinhua, hz_admin, operator):
    other = create_supplier(actor=SYSTEM, code="bookuu", name="博库书城")
    bookuu_staff = actor_for_user(
        create_supplier_user(actor=operator, supplier=other, username="bk", password="pw-1234567")
    )
    for actor in (hz_admin, bookuu_staff):
        with pytest.raises(PermissionDenied):
            run(xinhua, GOOD, actor=actor)
    assert Title.objects.count() == 0
    xinhua_staff = actor_for_user(
        create_supplier_user(actor=operator, supplier=xinhua, username="xh", password="pw-1234567")
    )
    assert run(xinhua, GOOD, actor=xinhua_staff).created == 3
    assert run(xinhua, GOOD, actor=operator).updated == 3


def test_author_names_lose_nationality_and_role():
    assert clean_author("(日)东野圭吾 著") == "东野圭吾"
    assert clean_author("［美］埃里克·马瑟斯（Eric Matthes）著") == "埃里克·马瑟斯（Eric Matthes）"
    assert clean_author("刘姿君 译") == "刘姿君"
    assert clean_author("杨伯峻译注") == "杨伯峻"
    assert clean_author("Thomas H. Cormen 等") == "Thomas H. Cormen"
    assert clean_author("Martin, Robert C.") == "Martin, Robert C"
    assert clean_author("王编") == "王编"


def test_the_import_catalog_command(xinhua, tmp_path: Path):
    path = tmp_path / "books.csv"
    path.write_text(HEADER + GOOD + "9787020024758,坏,某人,某社,2020,文学,10.00,1,\n", "utf-8")
    out = io.StringIO()
    call_command("import-catalog", str(path), supplier="zjxinhua", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0] == "books.csv (csv) → 浙江省新华书店: 3 created, 0 updated, 1 rejected"
    assert lines[1] == "  rejected 第 5 行 9787020024758 坏: ISBN 校验位错误（9787020024758）"
    with pytest.raises(CommandError, match="no supplier with code 'nobody'"):
        call_command("import-catalog", str(path), supplier="nobody")
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n", "utf-8")
    with pytest.raises(CommandError, match="file: 表头缺少必需的列"):
        call_command("import-catalog", str(bad), supplier="zjxinhua")
