"""PostgreSQL: the RUM index reads matches in index order; with it and without it (GIN only) the
search gives exactly the same answers. Runs where the server offers the ``rum`` extension and
where it does not (then only the GIN half)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.catalog.search.backends import RUM_INDEX, forget_statistics, pg_create_ordered_index
from xinyue.catalog.selectors.search import Limits, search_titles
from xinyue.catalog.tests.engine_data import add_titles

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the RUM index is PostgreSQL's"
)

SMALL = Limits(window=12, facets=6, rank=6)
# (query, keyword arguments): heads past the window, pages beyond the ranked head, sorts, a
# filter (the window's end), per-field search (weights), a phrase of bigrams, a prefix.
CASES = [
    ("江南", {}),
    ("江南", {"page": 2, "page_size": 5}),
    ("江南", {"page": 3, "page_size": 5, "sort": "popularity"}),
    ("江南", {"sort": "newest"}),
    ("江南", {"year_from": 2010}),
    ("园林", {"page": 2, "page_size": 4}),
    ("南园", {}),
    ("", {"fields": {"title": "江南"}, "page": 2, "page_size": 4}),
    ("jiangnan", {"page": 2, "page_size": 4}),
    ("江南 游记", {}),
]


@pytest.fixture
def catalog(db):
    titles = add_titles(
        [
            {"title": f"江南园林第{i}卷", "popularity": (i * 37) % 101, "year": 2000 + i % 20}
            for i in range(30)
        ]
        + [{"title": f"江南游记{i}", "popularity": i, "year": 2015} for i in range(10)]
        + [{"title": f"西湖园林{i}", "popularity": i * 3} for i in range(10)]
    )
    forget_statistics()
    yield titles
    forget_statistics()  # the test's transaction is rolled back: the index is as it was


def answers() -> tuple[list, list[str]]:
    out = []
    with CaptureQueriesContext(connection) as queries:
        for query, kwargs in CASES:
            result = search_titles(query=query, limits=SMALL, **kwargs)
            out.append(
                (
                    query,
                    [t.id for t in result.items],
                    result.total,
                    result.total_is_exact,
                    result.facets,
                )
            )
    return out, [q["sql"] for q in queries]


def test_rum_and_gin_give_the_same_answers(catalog):
    has_rum = pg_create_ordered_index()
    with_rum, sql_rum = answers()
    assert with_rum[0][2:4] == (12, False)  # 40 matches, a window of 12
    assert len({tuple(a[1]) for a in with_rum}) > 5  # the cases differ from one another

    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    forget_statistics()
    gin_only, sql_gin = answers()

    assert gin_only == with_rum
    assert not any("<=>" in s for s in sql_gin)
    # With the index, a head past the window is read in index order through it.
    assert any("<=>" in s for s in sql_rum) == has_rum


def test_a_word_dense_enough_is_walked_even_with_rum(catalog):
    """江南 is in 40 of 50 documents (far above the walking threshold): walking the docid index finds its head sooner than RUM."""
    pg_create_ordered_index()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_searchdocument")
    forget_statistics()
    with CaptureQueriesContext(connection) as queries:
        result = search_titles(query="江南", limits=SMALL)
    assert (result.total, result.total_is_exact) == (12, False)
    heads = [
        q["sql"] for q in queries if "LIMIT" in q["sql"] and "catalog_searchdocument" in q["sql"]
    ]
    assert heads
    assert all("<=>" not in s for s in heads)
    assert any("ORDER BY d.docid LIMIT" in s for s in heads)


def test_the_bulk_load_leaves_the_rum_index_where_the_server_has_it(catalog):
    from xinyue.catalog.search.backends import get_backend

    available = pg_create_ordered_index()
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
    with get_backend().bulk_load():
        pass
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'catalog_searchdocument' "
            "ORDER BY indexname"
        )
        names = [r[0] for r in cursor.fetchall()]
    expected = {"catalog_searchdocument_vector"} | ({RUM_INDEX} if available else set())
    assert expected <= set(names)
    assert (RUM_INDEX in names) == available
    if available:
        # Partial, so that only the ordered head (which states the condition) can use it.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_get_indexdef(%s::regclass)", [RUM_INDEX])
            assert cursor.fetchone()[0].endswith("WHERE (docid > 0)")


def test_the_head_read_below_a_docid_bound_is_the_head_read_without_it(db):
    """A one-term query with many matches reads its RUM head below a docid bound taken from the
    docid histogram; when the bound lets too few through (灯塔: every match among the last
    documents) the head is read again without it. Both answer exactly as GIN alone does."""
    # 700 documents in title-id order (all popularity 0): 园林 in every 30th, 灯塔 in the last 20.
    rows = []
    for i in range(680):
        rows.append({"title": f"江南园林{i}" if i % 30 == 0 else f"杂记{i}"})
    rows += [{"title": f"寂静的灯塔{i}"} for i in range(20)]
    add_titles(rows)
    has_rum = pg_create_ordered_index()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_searchdocument")
    forget_statistics()
    tiny = Limits(window=100, facets=2, rank=2)

    def run() -> tuple[list, list[str]]:
        out = []
        with CaptureQueriesContext(connection) as queries:
            for query in ("园林", "灯塔"):
                result = search_titles(query=query, limits=tiny, cached=False)
                out.append((query, [t.id for t in result.items], result.total, result.facets))
        heads = [q["sql"] for q in queries if "<=>" in q["sql"]]
        return out, heads

    try:
        with_rum, heads = run()
        with connection.cursor() as cursor:
            cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
        forget_statistics()
        gin_only, gin_heads = run()
    finally:
        forget_statistics()
    assert [a[2] for a in with_rum] == [23, 20]
    assert gin_only == with_rum
    assert not gin_heads
    if has_rum:
        # The heads of 2 (later pages read on with OFFSET): 园林 below the bound, where its
        # first two are; 灯塔 below the bound (none there), then again without it.
        firsts = [
            ("园林" if "园林" in s else "灯塔", " AND d.docid < " in s)
            for s in heads
            if s.endswith("LIMIT 2")
        ]
        assert firsts == [("园林", True), ("灯塔", True), ("灯塔", False)]
