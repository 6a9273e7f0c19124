"""The term table (PostgreSQL): how many documents hold each lexeme, exact after every kind of
index write, so that a search can know its window is full without counting it and can write an
English or pinyin prefix as the lexemes it stands for. The answers are the same as SQLite's
(the totals and prefix tests run on both engines)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.catalog.demo import demo_supplier
from xinyue.catalog.models import Title
from xinyue.catalog.search.backends import (
    PREFIX_EXPANSION,
    TERM_TABLE,
    PostgresBackend,
    forget_statistics,
)
from xinyue.catalog.search.isbn import parse_isbn
from xinyue.catalog.search.plan import make_plan
from xinyue.catalog.selectors.search import Limits, search_titles
from xinyue.catalog.services.imports import TitleData, bulk_add_titles
from xinyue.catalog.services.indexing import index_titles, rebuild_index, set_popularity
from xinyue.catalog.tests.engine_data import add_titles, fresh_isbn
from xinyue.core.actors import SYSTEM

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the term table is PostgreSQL's"
)


def stored_counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lexeme, documents FROM {TERM_TABLE} WHERE documents <> 0")
        return dict(cursor.fetchall())


def recounted() -> dict[str, int]:
    """Every lexeme of the stored vectors the table keeps, counted from scratch."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT word, ndoc FROM ts_stat('SELECT vector FROM catalog_searchdocument') "
            "WHERE word ~ '^[^0-9@=]'"  # ISBNs and numbers, pinyin and filter tokens: not kept
        )
        counts = dict(cursor.fetchall())
        # Two characters: the documents holding the word or its bigram.
        cursor.execute("SELECT vector::text FROM catalog_searchdocument")
        for (vector,) in cursor.fetchall():
            lexemes = {part.split("':")[0].strip("'") for part in vector.split(" '")}
            pairs = {x.lstrip("~") for x in lexemes if len(x.lstrip("~")) == 2 and x[0] not in "@="}
            for pair in pairs:
                counts["|" + pair] = counts.get("|" + pair, 0) + 1
        return counts


def window_statements(queries) -> list[str]:
    """The statements that count or collect a window (LIMIT window + 1) of matches."""
    return [
        q["sql"]
        for q in queries
        if "catalog_searchdocument d WHERE" in q["sql"]
        and "ORDER BY" not in q["sql"]
        and "LIMIT" in q["sql"]
    ]


@postgres_only
def test_the_counts_stay_exact_through_every_kind_of_index_write(db):
    titles = add_titles(
        [{"title": f"江南园林第{i}卷", "authors": ["陈从周"]} for i in range(6)]
        + [{"title": "Machine Learning in Practice", "subjects": "计算机"}]
    )
    counts = stored_counts()
    assert counts == recounted()
    assert counts["园林"] == 6
    assert counts["|园林"] == 6
    assert counts["machine"] == 1

    # An index update: the title changes, its document is written again.
    Title.objects.filter(pk=titles[0].pk).update(title="西湖游记")
    index_titles(title_ids=[titles[0].pk])
    counts = stored_counts()
    assert counts == recounted()
    assert counts["西湖"] == 1
    assert counts["园林"] == 5

    # A deactivation: the document goes, and its lexemes with it.
    Title.objects.filter(pk__in=[titles[1].pk, titles[6].pk]).update(is_active=False)
    index_titles(title_ids=[titles[1].pk, titles[6].pk])
    counts = stored_counts()
    assert counts == recounted()
    assert counts["园林"] == 4
    assert "machine" not in counts

    # A move in the index order changes no token.
    assert set_popularity(popularity={titles[2].pk: 5000}) == 1
    assert stored_counts() == counts

    # A bulk load adds its titles; a full rebuild counts the same.
    isbn = parse_isbn(fresh_isbn())
    bulk_add_titles(
        actor=SYSTEM,
        supplier=demo_supplier(),
        titles=[
            TitleData(
                isbn13=isbn.isbn13,
                isbn10=isbn.isbn10,
                title="园林与诗",
                authors=["陈从周"],
                list_price_fen=3000,
                stock=1,
            )
        ],
        bulk=True,
    )
    counts = stored_counts()
    assert counts == recounted()
    assert counts["园林"] == 5
    rebuild_index()
    assert stored_counts() == counts
    forget_statistics()


@pytest.mark.django_db
def test_totals_known_from_the_table_are_the_counted_ones():
    """江南 (a two-character term: its key is exact) in 21 documents fills a window of 20, in
    20 after a deactivation it does not; ``garden`` (a prefix: its lexeme is a lower bound) in
    21 fills it, in 20 it is counted. The same totals on both engines; on PostgreSQL no
    statement counts or collects the matches of 江南, nor those of ``garden`` while the lexeme
    alone shows the window full."""
    jiangnan = add_titles([{"title": f"江南游记{i}"} for i in range(21)])
    garden = add_titles([{"title": f"Garden Notes {i}"} for i in range(21)])
    add_titles([{"title": "西湖游记", "subjects": "江南"}])  # the word only, no bigram
    forget_statistics()
    limits = Limits(window=20, facets=5, rank=5)
    postgres = connection.vendor == "postgresql"

    def search(query: str) -> tuple[int, bool, list[str]]:
        with CaptureQueriesContext(connection) as queries:
            result = search_titles(query=query, limits=limits, cached=False)
        return result.total, result.total_is_exact, window_statements(queries)

    total, exact, statements = search("江南")
    assert (total, exact) == (20, False)
    assert not postgres or statements == []
    total, exact, statements = search("garden")
    assert (total, exact) == (20, False)
    assert not postgres or statements == []

    Title.objects.filter(pk__in=[jiangnan[0].pk, jiangnan[1].pk, garden[0].pk]).update(
        is_active=False
    )
    index_titles(title_ids=[jiangnan[0].pk, jiangnan[1].pk, garden[0].pk])
    total, exact, statements = search("江南")
    assert (total, exact) == (20, True)  # 19 titles and the subject
    assert not postgres or statements == []
    assert search_titles(query="江南", page=2, page_size=15, limits=limits).items
    total, exact, statements = search("garden")
    assert (total, exact) == (20, True)
    assert not postgres or statements != []
    forget_statistics()


@pytest.mark.django_db
def test_a_prefix_finds_the_same_titles_written_out_or_not():
    """``pyth`` stands for two lexemes (written out on PostgreSQL), ``zzq`` for more than
    ``PREFIX_EXPANSION`` (kept as a prefix); both find every title that has a word starting
    so, and nothing else, on both engines."""
    pythons = add_titles(
        [{"title": "Python Cookbook"}, {"title": "Pythonic Code"}, {"title": "Pyramid Guide"}]
    )
    many = add_titles(
        [
            {"title": f"zzq{chr(97 + i // 26)}{chr(97 + i % 26)} notes"}
            for i in range(PREFIX_EXPANSION + 1)
        ]
    )
    with CaptureQueriesContext(connection) as queries:
        result = search_titles(query="pyth", cached=False)
    assert sorted(t.id for t in result.items) == sorted(t.pk for t in pythons[:2])
    assert result.total == 2
    if connection.vendor == "postgresql":
        # Statements matching through the index (the relevance tiers test the head's own
        # vectors by their ids, where a prefix costs nothing: ``tier_tests``).
        matching = [
            q["sql"] for q in queries if "@@" in q["sql"] and "d.docid = ANY" not in q["sql"]
        ]
        assert matching
        assert all("'python'" in s and "'pythonic'" in s for s in matching)
        assert not any("''pyth'':*" in s for s in matching)  # quoted in the logged SQL

    with CaptureQueriesContext(connection) as queries:
        result = search_titles(query="zzq", page_size=50, cached=False)
    assert sorted(t.id for t in result.items) == sorted(t.pk for t in many)
    if connection.vendor == "postgresql":
        assert any("zzq'':*" in q["sql"] for q in queries)  # quoted in the logged SQL

    # A prefix no lexeme has matches nothing, written out or not.
    assert search_titles(query="pythx", cached=False).total == 0


def test_a_written_out_prefix_keeps_its_columns():
    """``title:pyth`` restricted to the title (weight A): each lexeme it stands for is too, and
    without expansions the prefix form stays."""
    plan = make_plan("", fields={"title": "pyth"})
    written = PostgresBackend().tsquery(plan, {"pyth": ["python", "pythonic"]})
    assert written == "(('python':A | 'pythonic':A) | '@pyth':*A)"  # pinyin keeps the prefix
    assert PostgresBackend().tsquery(plan) == "('pyth':*A | '@pyth':*A)"
