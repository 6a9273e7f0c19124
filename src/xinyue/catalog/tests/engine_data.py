"""Test data for the engine's tests (search, import, bench): the demo's real titles and small
hand-made catalogs, loaded through the catalog's own services."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from stdnum import ean

from xinyue.catalog.demo import demo_supplier, ensure_catalog
from xinyue.catalog.demo_catalog import REAL_TITLES
from xinyue.catalog.models import Category, Title
from xinyue.catalog.search.isbn import parse_isbn
from xinyue.catalog.services.imports import TitleData, bulk_add_titles
from xinyue.core.actors import SYSTEM

_numbers = itertools.count(1)


def fresh_isbn() -> str:
    body = f"9787{880000 + next(_numbers):08d}"
    return body + ean.calc_check_digit(body)


def load_real_titles() -> dict[str, Title]:
    """The demo's real titles (围城, 白夜行, 三体 …), by title."""
    ensure_catalog(titles=len(REAL_TITLES))
    return {t.title: t for t in Title.objects.all()}


def add_titles(rows: Sequence[dict]) -> list[Title]:
    """Titles from dicts (title, authors, publisher, year, category, popularity, stock …)."""
    categories = dict(Category.objects.values_list("name", "id"))
    data = []
    for row in rows:
        isbn = parse_isbn(row.get("isbn") or fresh_isbn())
        data.append(
            TitleData(
                isbn13=isbn.isbn13,
                isbn10=isbn.isbn10,
                title=row["title"],
                subtitle=row.get("subtitle", ""),
                authors=list(row.get("authors", ())),
                publisher=row.get("publisher", ""),
                year=row.get("year"),
                list_price_fen=row.get("list_price_fen", 3000),
                category_id=categories[row["category"]] if row.get("category") else None,
                subjects=row.get("subjects", ""),
                stock=row.get("stock", 1),
                popularity=row.get("popularity", 0),
            )
        )
    bulk_add_titles(actor=SYSTEM, supplier=demo_supplier(), titles=data)
    by_isbn = {t.isbn13: t for t in Title.objects.filter(isbn13__in=[d.isbn13 for d in data])}
    return [by_isbn[d.isbn13] for d in data]
