"""CSV and XLSX catalog files with the header of DESIGN §11:

``isbn,title,authors,publisher,year,category,list_price,stock,summary`` (authors separated by
``;``, list price in yuan, category a name of the platform's tree). Optional extra columns:
``subtitle, edition, pages, clc_class, subjects, cover, price``. Chinese column names are
accepted too (ISBN, 题名, 作者, 出版社, 出版年, 分类, 定价, 库存, 简介 …). CSV may be UTF-8 (with or
without BOM) or GB18030 (what Excel writes on Chinese Windows).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from xinyue.catalog.importers.records import RawRecord, UnreadableFile

HEADER = (
    "isbn",
    "title",
    "authors",
    "publisher",
    "year",
    "category",
    "list_price",
    "stock",
    "summary",
)
OPTIONAL = ("subtitle", "edition", "pages", "clc_class", "subjects", "cover", "price")
REQUIRED = ("isbn", "title")

ALIASES = {
    "isbn": "isbn", "isbn13": "isbn", "书号": "isbn",
    "title": "title", "题名": "title", "书名": "title", "正题名": "title",
    "subtitle": "subtitle", "副题名": "subtitle", "副书名": "subtitle",
    "authors": "authors", "author": "authors", "作者": "authors", "责任者": "authors", "著者": "authors",
    "publisher": "publisher", "出版社": "publisher", "出版者": "publisher",
    "year": "year", "出版年": "year", "出版时间": "year", "出版日期": "year",
    "category": "category", "分类": "category", "类别": "category",
    "list_price": "list_price", "定价": "list_price", "价格": "list_price",
    "stock": "stock", "库存": "stock", "数量": "stock",
    "summary": "summary", "简介": "summary", "内容简介": "summary",
    "edition": "edition", "版次": "edition",
    "pages": "pages", "页数": "pages",
    "clc_class": "clc_class", "clc": "clc_class", "中图法分类号": "clc_class", "中图分类号": "clc_class", "分类号": "clc_class",
    "subjects": "subjects", "主题词": "subjects",
    "cover": "cover", "封面": "cover",
    "price": "price", "供货价": "price", "折扣价": "price",
}  # fmt: skip

_LIST_SPLIT = re.compile(r"\s*[;；]\s*")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(str(value)), "f")
    if hasattr(value, "year") and hasattr(value, "month"):
        return str(value.year)  # a date cell in the year column
    return str(value).strip()


def _columns(header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, name in enumerate(header):
        key = ALIASES.get(_cell(name).strip().lower().replace(" ", "_"))
        if key and key not in columns:
            columns[key] = index
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise UnreadableFile(
            "表头缺少必需的列：" + "、".join(missing) + "（应为 " + ",".join(HEADER) + "）"
        )
    return columns


def _record(position: str, row: list[Any], columns: dict[str, int]) -> RawRecord:
    def get(key: str) -> str:
        index = columns.get(key)
        if index is None or index >= len(row):
            return ""
        return _cell(row[index])

    return RawRecord(
        position=position,
        isbn=get("isbn"),
        title=get("title"),
        subtitle=get("subtitle"),
        authors=[a for a in _LIST_SPLIT.split(get("authors")) if a],
        publisher=get("publisher"),
        year=get("year"),
        edition=get("edition"),
        pages=get("pages"),
        list_price=get("list_price"),
        category=get("category"),
        clc_class=get("clc_class"),
        subjects=[s for s in _LIST_SPLIT.split(get("subjects")) if s],
        summary=get("summary"),
        cover=get("cover"),
        stock=get("stock"),
        price=get("price"),
    )


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableFile("无法识别文件编码（应为 UTF-8 或 GB18030）")


def read_csv(data: bytes, *, delimiter: str | None = None) -> Iterator[RawRecord]:
    text = _decode(data)
    if delimiter is None:
        first_line = text.split("\n", 1)[0]
        delimiter = "\t" if first_line.count("\t") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
    except StopIteration:
        raise UnreadableFile("文件为空") from None
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误：{exc}") from None
    columns = _columns(header)
    line = 1
    try:
        for row in reader:
            line = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            yield _record(f"第 {line} 行", row, columns)
    except csv.Error as exc:
        raise UnreadableFile(f"CSV 格式错误（第 {line + 1} 行）：{exc}") from None


def read_xlsx(data: bytes) -> Iterator[RawRecord]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a file that is not a workbook
        raise UnreadableFile(f"无法读取 Excel 文件：{type(exc).__name__}") from None
    try:
        sheet = workbook.worksheets[0]
        rows = sheet.iter_rows(values_only=True)
        try:
            header = list(next(rows))
        except StopIteration:
            raise UnreadableFile("工作表为空") from None
        columns = _columns(header)
        for number, row in enumerate(rows, start=2):
            values = list(row)
            if not any(_cell(v) for v in values):
                continue
            yield _record(f"第 {number} 行", values, columns)
    finally:
        workbook.close()
