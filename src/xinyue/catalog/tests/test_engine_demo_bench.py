"""The demo catalog (idempotent, deterministic) and the search benchmark's command and output."""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import OutputWrapper
from stdnum import isbn as stdnum_isbn

from xinyue.catalog import demo
from xinyue.catalog.demo_catalog import REAL_TITLES, generated_title
from xinyue.catalog.models import Offer, SearchDocument, Title


@pytest.mark.django_db
def test_the_demo_catalog_is_idempotent_and_indexed():
    buffer = io.StringIO()
    out = OutputWrapper(buffer)
    demo.seed(options={"titles": 120}, stdout=out)
    demo.seed(options={"titles": 120}, stdout=out)
    assert Title.objects.count() == 120
    assert SearchDocument.objects.count() == 120
    assert Offer.objects.filter(supplier__code="zjxinhua").count() == 120
    assert all(stdnum_isbn.is_valid(i) for i in Title.objects.values_list("isbn13", flat=True))
    weicheng = Title.objects.get(isbn13="9787020024759")
    assert (weicheng.title, weicheng.authors, weicheng.publisher) == (
        "围城",
        ["钱锺书"],
        "人民文学出版社",
    )
    assert buffer.getvalue().splitlines()[-1] == (
        "demo catalog ready: 120 titles (0 real and 0 generated added now)"
    )
    demo.seed(options={"titles": 150}, stdout=out)
    assert Title.objects.count() == 150


def test_generated_titles_are_deterministic_and_plausible():
    assert generated_title(42) == generated_title(42)
    assert generated_title(42).isbn13 != generated_title(43).isbn13
    for i in range(200):
        g = generated_title(i)
        assert stdnum_isbn.is_valid(g.isbn13)
        assert g.isbn13.startswith("97873")
        assert g.title
        assert 1950 <= g.year <= 2026
        assert g.list_price_fen > 0
    assert len({r.isbn for r in REAL_TITLES if r.isbn}) == len([r for r in REAL_TITLES if r.isbn])


def test_generated_titles_carry_the_isbn10_python_stdnum_gives():
    """The bulk load computes a generated title's ISBN-10 instead of parsing its ISBN-13 again:
    the same digits as python-stdnum's, the "X" check digit included."""
    data = list(demo.generated_title_data(dict.fromkeys(_categories(), 1), 0, 3000))
    assert any(d.isbn10.endswith("X") for d in data)
    for d in data:
        assert d.isbn10 == stdnum_isbn.to_isbn10(d.isbn13)


@pytest.mark.django_db
def test_the_search_bench_prints_one_json_object_last():
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "bench", "search", "--titles", "150", "--rounds", "1", "--naive-queries", "3", "--json",
        stdout=out, stderr=err,
    )  # fmt: skip
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["bench"] == "search"
    assert result["n"] == 150
    assert set(result["ours"]) >= {"p50_ms", "p99_ms", "per_s", "by_kind"}
    assert result["baseline"]["name"] == "icontains"
    assert set(result["baseline"]) >= {"p50_ms", "p99_ms", "per_s", "recall"}
    assert result["recall"] == 1.0
    assert result["recall_misses"] == []
    assert result["baseline"]["recall"] < 1.0  # icontains finds no pinyin, no hyphenated ISBN
    assert "search bench: ensuring 150 titles" in err.getvalue()


@pytest.mark.django_db
def test_a_bulk_load_builds_the_index_at_the_end_and_keeps_it_in_step_afterwards():
    from xinyue.catalog.selectors.search import search_titles
    from xinyue.catalog.services.indexing import index_titles

    supplier = demo.demo_supplier()
    categories = dict(demo.Category.objects.values_list("name", "id"))
    added = demo.bulk_add_titles(
        actor=demo.SYSTEM,
        supplier=supplier,
        titles=list(demo.generated_title_data(categories, 0, 40))
        + demo.real_title_data(categories),
        batch_size=7,
        bulk=True,
    )
    assert added == 40 + len(REAL_TITLES)
    assert SearchDocument.objects.count() == added
    assert search_titles(query="dygw").total == 5
    weicheng = Title.objects.get(isbn13="9787020024759")
    Title.objects.filter(pk=weicheng.pk).update(title="围城（新版）")
    index_titles(title_ids=[weicheng.pk])  # the triggers are back: the change is indexed
    assert [t.title for t in search_titles(query="新版").items] == ["围城（新版）"]


@pytest.mark.django_db(transaction=True)
def test_a_bulk_load_leaves_the_tables_vacuumed_and_analysed(categories):
    from django.db import connection

    categories = dict(demo.Category.objects.values_list("name", "id"))
    demo.bulk_add_titles(
        actor=demo.SYSTEM,
        supplier=demo.demo_supplier(),
        titles=list(demo.generated_title_data(categories, 0, 120)),
        bulk=True,
    )
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT relpages, relallvisible, reltuples FROM pg_class "
                "WHERE relname = 'catalog_searchdocument'"
            )
            pages, visible, tuples = cursor.fetchone()
            assert (visible, tuples) == (pages, 120)  # every page all-visible, rows counted
            cursor.execute(
                "SELECT count(*) FROM pg_stats WHERE tablename = 'catalog_searchdocument' "
                "AND attname = 'vector' AND most_common_elems IS NOT NULL"
            )
            assert cursor.fetchone()[0] == 1
        else:
            cursor.execute("SELECT stat FROM sqlite_stat1 WHERE tbl = 'catalog_searchdocument'")
            assert cursor.fetchall() != []


def _categories() -> set[str]:
    from xinyue.catalog.demo_catalog import generated_titles

    return {g.category for g in generated_titles(0, 3000)}
