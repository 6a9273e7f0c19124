"""Test data for the portal, curation, bookshelf and catalog API tests: titles (indexed for
search, with offers), readers, supplier keys. Plain functions; each test module makes its own
fixtures from them."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from stdnum import ean
from stdnum.cn import ric

from xinyue.catalog.models import Category, Offer, Title
from xinyue.catalog.services.indexing import index_titles
from xinyue.suppliers.models import Supplier
from xinyue.suppliers.tests.factories import SupplierFactory

PASSWORD = "read-more-books-9"
_isbn_numbers = itertools.count(1)
_id_numbers = itertools.count(1)


def new_isbn() -> str:
    """A valid ISBN-13 in the 978-7 (China) range, different every call."""
    body = f"9787{900000 + next(_isbn_numbers):08d}"
    return body + ean.calc_check_digit(body)


def supplier(code: str = "zjxinhua", name: str = "浙江省新华书店") -> Supplier:
    return SupplierFactory(code=code, name=name)


def make_title(
    title: str,
    *,
    authors: Sequence[str] = (),
    publisher: str = "",
    year: int | None = None,
    category: str | None = None,
    list_price_fen: int = 0,
    stock: int | None = None,
    subtitle: str = "",
    subjects: str = "",
    summary: str = "",
    isbn13: str | None = None,
    is_active: bool = True,
    supplier_code: str = "zjxinhua",
) -> Title:
    """A title as the import would leave it: in the search index, with an offer when ``stock``
    is given (0 = offered but out of stock)."""
    row = Title.objects.create(
        isbn13=isbn13 or new_isbn(),
        title=title,
        subtitle=subtitle,
        authors=list(authors),
        authors_display="；".join(authors),
        publisher=publisher,
        year=year,
        category=Category.objects.get(name=category) if category else None,
        list_price_fen=list_price_fen,
        subjects=subjects,
        summary=summary,
        is_active=is_active,
    )
    if stock is not None:
        Offer.objects.create(
            supplier=supplier(supplier_code), title=row, stock=stock, price_fen=list_price_fen
        )
    index_titles(title_ids=[row.pk])
    return row


def library_shelf() -> dict[str, Title]:
    """A small catalog with known words, names and categories."""
    return {
        "weicheng": make_title(
            "围城",
            authors=["钱锺书"],
            publisher="人民文学出版社",
            year=1991,
            category="中国现当代小说",
            list_price_fen=3900,
            stock=5,
            subjects="长篇小说；中国；现代",
        ),
        "baiyexing": make_title(
            "白夜行",
            authors=["东野圭吾", "刘姿君"],
            publisher="南海出版公司",
            year=2013,
            category="侦探/悬疑/推理",
            list_price_fen=3960,
            stock=2,
        ),
        "xianyiren": make_title(
            "嫌疑人X的献身",
            authors=["东野圭吾", "刘子倩"],
            publisher="南海出版公司",
            year=2014,
            category="侦探/悬疑/推理",
            list_price_fen=3500,
            stock=0,
        ),
        "python": make_title(
            "Python编程",
            subtitle="从入门到实践",
            authors=["埃里克·马瑟斯"],
            publisher="人民邮电出版社",
            year=2016,
            category="编程语言",
            list_price_fen=8900,
            stock=12,
        ),
    }


def new_reader(number: int | None = None):
    """A registered reader with a valid, fictitious Zhejiang ID number."""
    from xinyue.readers.services.identity import register_reader

    sequence = number if number is not None else next(_id_numbers)
    body = f"33010619900101{sequence % 1000:03d}"
    return register_reader(
        id_number=body + ric.calc_check_digit(body + "0"),
        name="林晓雨",
        phone=f"138{sequence:08d}",
        password=PASSWORD,
    )


def reader_token(reader) -> str:
    from xinyue.readers.services.tokens import issue_reader_token

    _row, token = issue_reader_token(reader=reader)
    return token
