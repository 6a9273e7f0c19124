"""Demo catalog (idempotent): real well-known titles and generated ones, offered by 浙江省新华书店.

``xinyue seed-demo`` loads a small catalog (``DEFAULT_TITLES``); ``--titles N`` tops it up to N
titles (a million loads in minutes: bulk inserts, segmentation cached per word).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from xinyue.catalog.category_tree import load_tree
from xinyue.catalog.demo_catalog import (
    GENERATED_PREFIX,
    REAL_TITLES,
    generated_titles,
    isbn_for_real,
)
from xinyue.catalog.models import Category, Title
from xinyue.catalog.search.isbn import check_digit_10, parse_isbn
from xinyue.catalog.services.imports import TitleData, bulk_add_titles, clean_authors
from xinyue.core.actors import SYSTEM
from xinyue.core.money import yuan_to_fen
from xinyue.suppliers.models import Supplier
from xinyue.suppliers.services import create_supplier

DEFAULT_TITLES = 3000
BULK_FROM = 50_000  # from this many new titles on, load in bulk (index built at the end)
SUPPLIER_CODE = "zjxinhua"


def demo_supplier() -> Supplier:
    return Supplier.objects.filter(code=SUPPLIER_CODE).first() or create_supplier(
        actor=SYSTEM, code=SUPPLIER_CODE, name="浙江省新华书店", contact="发行部"
    )


def real_title_data(categories: dict[str, int]) -> list[TitleData]:
    out = []
    for index, real in enumerate(REAL_TITLES):
        isbn = parse_isbn(real.isbn or isbn_for_real(index))
        out.append(
            TitleData(
                isbn13=isbn.isbn13,
                isbn10=isbn.isbn10,
                title=real.title,
                subtitle=real.subtitle,
                authors=clean_authors(real.authors),
                publisher=real.publisher,
                year=real.year,
                pages=real.pages,
                list_price_fen=yuan_to_fen(real.price),
                category_id=categories[real.category],
                clc_class=real.clc,
                subjects=real.subjects,
                summary=real.summary,
                stock=5 + index % 11,
                popularity=1000 - index,
            )
        )
    return out


def generated_title_data(categories: dict[str, int], start: int, stop: int) -> Iterator[TitleData]:
    for g in generated_titles(start, stop):
        # Made valid by the generator: its ISBN-10 is computed, not parsed and validated again
        # (python-stdnum's checks were a quarter of a bulk load's CPU).
        isbn10 = g.isbn13[3:12] + check_digit_10(g.isbn13[3:12]) if g.isbn13[:3] == "978" else ""
        yield TitleData(
            isbn13=g.isbn13,
            isbn10=isbn10,
            title=g.title,
            subtitle=g.subtitle,
            authors=list(g.authors),
            publisher=g.publisher,
            year=g.year,
            pages=g.pages,
            list_price_fen=g.list_price_fen,
            category_id=categories[g.category],
            subjects=g.subjects,
            summary=g.summary,
            stock=g.stock,
            popularity=g.popularity,
        )


def ensure_catalog(*, titles: int, progress: Any = None) -> tuple[int, int]:
    """Make the catalog hold the real titles and enough generated ones for ``titles`` in all.
    Returns (real titles added, generated titles added)."""
    if not Category.objects.exists():
        load_tree(Category)
    categories = dict(Category.objects.values_list("name", "id"))
    supplier = demo_supplier()
    real = real_title_data(categories)
    known = set(
        Title.objects.filter(isbn13__in=[r.isbn13 for r in real]).values_list("isbn13", flat=True)
    )
    added_real = bulk_add_titles(
        actor=SYSTEM, supplier=supplier, titles=[r for r in real if r.isbn13 not in known]
    )
    have = Title.objects.filter(isbn13__startswith=GENERATED_PREFIX).count()
    want = max(0, titles - len(real))
    added = 0
    if have < want:
        added = bulk_add_titles(
            actor=SYSTEM,
            supplier=supplier,
            titles=generated_title_data(categories, have, want),
            progress=progress,
            bulk=want - have >= BULK_FROM,
        )
    return added_real, added


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    titles = options.get("titles") or DEFAULT_TITLES

    def progress(done: int) -> None:
        if done % 50_000 == 0:
            stdout.write(f"  catalog: {done} generated titles added")

    added_real, added = ensure_catalog(titles=titles, progress=progress)
    stdout.write(
        f"demo catalog ready: {Title.objects.count()} titles "
        f"({added_real} real and {added} generated added now)"
    )
    return []
