"""Search behaviour: facets, filters, per-field search, sorts, pages, highlights, index sync, the
bounded window on common words, and hostile input (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xinyue.catalog.models import SearchDocument, Title
from xinyue.catalog.selectors.search import Limits, SearchResult, matches, search_titles
from xinyue.catalog.services.indexing import index_titles, rebuild_index, rebuild_search_index
from xinyue.catalog.tests.engine_data import add_titles
from xinyue.core.errors import PermissionDenied
from xinyue.core.models import AuditEntry

ROWS = [
    {"title": "江南园林", "authors": ["陈从周"], "publisher": "同济大学出版社", "year": 2019, "category": "建筑艺术", "popularity": 50, "stock": 3},
    {"title": "江南园林图录", "authors": ["刘敦桢"], "publisher": "中国建筑工业出版社", "year": 2005, "category": "建筑艺术", "popularity": 10, "stock": 0},
    {"title": "江南古镇旅游", "authors": ["王芳"], "publisher": "浙江摄影出版社", "year": 2021, "category": "国内旅游", "popularity": 30, "stock": 5},
    {"title": "江南美食", "authors": ["李强"], "publisher": "浙江摄影出版社", "year": 2021, "category": "美食文化", "popularity": 5, "stock": 2},
    {"title": "江南文化研究", "authors": ["张伟"], "publisher": "浙江大学出版社", "year": 2015, "category": "中国文化", "popularity": 80, "stock": 0},
    {"title": "西湖园林", "authors": ["张伟"], "publisher": "浙江大学出版社", "year": 2010, "category": "建筑艺术", "popularity": 1, "stock": 1},
]  # fmt: skip


@pytest.fixture
def shelf(db):
    """The six titles above, by number 1–6."""
    return dict(enumerate(add_titles(ROWS), start=1))


def numbers(result, shelf):
    by_id = {t.id: n for n, t in shelf.items()}
    return [by_id[t.id] for t in result.items]


def test_facets_count_category_year_and_publisher(shelf):
    result = search_titles(query="江南")
    assert result.total == 5
    assert result.facets == {
        "category": [("建筑艺术", 2), ("中国文化", 1), ("国内旅游", 1), ("美食文化", 1)],
        "year": [(2021, 2), (2019, 1), (2015, 1), (2005, 1)],
        "publisher": [
            ("浙江摄影出版社", 2),
            ("中国建筑工业出版社", 1),
            ("同济大学出版社", 1),
            ("浙江大学出版社", 1),
        ],
    }
    assert result.facets_are_exact
    assert result.total_is_exact


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"category": "建筑艺术"}, {1, 2}),
        ({"category": "艺术"}, {1, 2}),  # a top category includes its sub-categories
        ({"category": "文化"}, {5}),
        ({"publisher": "浙江摄影出版社"}, {3, 4}),
        ({"year_from": 2015, "year_to": 2020}, {1, 5}),
        ({"year_from": 2021}, {3, 4}),
        ({"in_stock": True}, {1, 3, 4}),
        ({"category": "建筑艺术", "in_stock": True}, {1}),
        ({"category": "没有这个分类"}, set()),
        ({"publisher": "没有这个出版社"}, set()),
    ],
)
def test_filters(shelf, filters, expected):
    result = search_titles(query="江南", **filters)
    assert set(numbers(result, shelf)) == expected
    assert result.total == len(expected)


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"title": "园林"}, {1, 2, 6}),
        ({"author": "张伟"}, {5, 6}),
        ({"author": "zw"}, {5, 6}),
        ({"author": "张伟", "title": "西湖"}, {6}),
        ({"publisher": "浙江大学"}, {5, 6}),
        ({"title": "张伟"}, set()),
        ({"isbn": "not an isbn"}, set()),
        ({"unknown_field": "江南"}, {1, 2, 3, 4, 5, 6}),  # ignored: browse everything
    ],
)
def test_per_field_search(shelf, fields, expected):
    assert set(numbers(search_titles(fields=fields), shelf)) == expected


def test_isbn_field(shelf):
    isbn = shelf[6].isbn13
    assert numbers(search_titles(fields={"isbn": f"{isbn[:3]}-{isbn[3:]}"}), shelf) == [6]


def test_category_browsing_without_words_is_most_popular_first(shelf):
    result = search_titles(category="建筑艺术")
    assert numbers(result, shelf) == [1, 2, 6]
    assert search_titles(category="建筑艺术", sort="newest").items[0].title == "江南园林"


def test_sorts(shelf):
    assert numbers(search_titles(query="江南", sort="popularity"), shelf) == [5, 1, 3, 2, 4]
    assert numbers(search_titles(query="江南", sort="newest"), shelf) == [4, 3, 1, 5, 2]
    assert numbers(search_titles(query="江南园林"), shelf)[0] == 1
    assert search_titles(query="江南", sort="nonsense").sort == "relevance"


def test_pages(shelf):
    pages = [
        numbers(search_titles(query="江南", sort="popularity", page=p, page_size=2), shelf)
        for p in (1, 2, 3, 4)
    ]
    assert pages == [[5, 1], [3, 2], [4], []]
    result = search_titles(query="江南", page=4, page_size=2)
    assert (result.total, result.num_pages, result.has_next) == (5, 3, False)
    assert search_titles(query="江南", page_size=0).page_size == 20
    assert search_titles(query="江南", page_size=10_000).page_size == 100
    assert search_titles(query="江南", page=-3).page == 1


def test_every_title_appears_once_across_relevance_pages(shelf):
    seen = []
    for p in (1, 2, 3):
        seen += numbers(search_titles(query="江南", page=p, page_size=2), shelf)
    assert sorted(seen) == [1, 2, 3, 4, 5]


def test_items_carry_highlights_stock_and_category(shelf):
    item = search_titles(query="江南园林 陈从周").items[0]
    assert item.highlights["title"] == "<mark>江南园林</mark>"
    assert item.highlights["authors"] == "<mark>陈从周</mark>"
    assert item.in_stock is True
    assert item.category.name == "建筑艺术"
    assert item.category.parent.name == "艺术"
    assert search_titles(query="江南文化").items[0].in_stock is False


def test_the_window_bounds_work_on_common_words(shelf):
    """With a window of 3, the 3 most popular matches are the result; facets count the first 2;
    the first 2 are ranked by score and the third follows."""
    limits = Limits(window=3, facets=2, rank=2)
    result = search_titles(query="江南", sort="popularity", limits=limits)
    assert numbers(result, shelf) == [5, 1, 3]
    assert (result.total, result.total_is_exact, result.facets_are_exact) == (3, False, False)
    assert result.facets["category"] == [("中国文化", 1), ("建筑艺术", 1)]
    ranked = []
    for p in (1, 2, 3):
        ranked += numbers(search_titles(query="江南", page=p, page_size=1, limits=limits), shelf)
    assert sorted(ranked[:2]) == [1, 5]
    assert ranked[2] == 3
    small = search_titles(query="江南", limits=Limits(window=10, facets=2, rank=2))
    assert (small.total, small.total_is_exact, small.facets_are_exact) == (5, True, False)


def test_the_index_follows_title_changes(shelf):
    title = shelf[6]
    Title.objects.filter(pk=title.pk).update(title="孤山园林", is_active=True)
    index_titles(title_ids=[title.pk])
    assert numbers(search_titles(query="孤山"), shelf) == [6]
    assert search_titles(query="西湖园林").total == 0

    Title.objects.filter(pk=title.pk).update(is_active=False)
    index_titles(title_ids=[title.pk])
    assert search_titles(query="孤山").total == 0
    assert not SearchDocument.objects.filter(title=title).exists()
    assert not matches(query="孤山", title_id=title.pk)


def test_rebuilding_the_index_gives_the_same_answers(shelf, operator, hz_admin):
    before = [t.id for t in search_titles(query="江南").items]
    with pytest.raises(PermissionDenied):
        rebuild_search_index(actor=hz_admin)
    assert rebuild_search_index(actor=operator) == 6
    assert [t.id for t in search_titles(query="江南").items] == before
    assert AuditEntry.objects.filter(action="catalog.search_index_rebuilt").count() == 1
    assert rebuild_index() == 6
    assert SearchDocument.objects.count() == 6


HOSTILE = [
    '"',
    '""',
    "'",
    '"围城" OR *',
    "江南 AND NOT 园林",
    "NEAR(江南 园林, 2)",
    "{t a}: 江南",
    "t:江南",
    "江南*",
    "^江南",
    "-江南 +园林",
    "江南 (园林",
    "') OR 1=1 --",
    "'; DROP TABLE catalog_title; --",
    "\\",
    "\x00江南",
    "江南\ud800",
    "😀📚🏯",
    "👨‍👩‍👧 江南",
    "x" * 1000,
    "江南" * 500,
    " ".join(["江南"] * 300),
    "ＪＩＡＮＧＮＡＮ",
    "\u200b\u200b",
    "%_%",
    "<script>alert(1)</script>",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_input_gives_a_page_never_an_error(shelf, query):
    result = search_titles(query=query, fields={"title": query, "author": query, "isbn": query})
    assert isinstance(result, SearchResult)
    result = search_titles(query=query, category=query, publisher=query, sort=query)
    assert isinstance(result, SearchResult)
    for item in search_titles(query=query).items:
        assert "<script>" not in item.highlights["title"]


def test_hostile_parameters(shelf):
    result = search_titles(
        query="江南", year_from="abc", year_to="2020'", page="x", page_size="-5", sort=None
    )
    assert result.total == 5
    assert search_titles(query=None, category=5, publisher=["x"]).total == 6


def test_the_quoted_and_operator_words_are_just_words(shelf):
    assert numbers(search_titles(query='"江南园林"'), shelf)[0] == 1
    assert search_titles(query="江南 NOT").total == 0  # "not" is a word no title has


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(max_size=120))
def test_any_text_gives_a_page(shelf, value):
    result = search_titles(query=value, fields={"author": value[:10]}, category=value[:10])
    assert result.total >= 0
    assert len(result.items) <= result.page_size


def test_popularity_moves_a_title_in_the_index_order(shelf):
    from xinyue.catalog.selectors.titles import title_by_isbn
    from xinyue.catalog.services.indexing import set_popularity

    assert numbers(search_titles(query="江南", limits=Limits(window=1)), shelf) == [5]
    assert set_popularity(popularity={shelf[4].id: 5000, shelf[1].id: 51, 999_999: 3}) == 1
    assert numbers(search_titles(query="江南", limits=Limits(window=1)), shelf) == [4]
    assert Title.objects.get(pk=shelf[1].pk).popularity == 51
    assert title_by_isbn(shelf[4].isbn13[:3] + "-" + shelf[4].isbn13[3:]) == shelf[4]
    assert title_by_isbn("nonsense") is None


def test_a_window_the_statistics_say_is_full_is_not_counted(db):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from xinyue.catalog.search.backends import get_backend

    add_titles([{"title": f"江南游记第{i}卷"} for i in range(60)])
    get_backend().optimize()  # fresh statistics (PostgreSQL: ANALYZE)
    with CaptureQueriesContext(connection) as queries:
        result = search_titles(query="江南", limits=Limits(window=20, facets=5, rank=5))
    assert (result.total, result.total_is_exact, len(result.items)) == (20, False, 20)
    counts = [q["sql"] for q in queries if "count(*)" in q["sql"] and "catalog_search" in q["sql"]]
    # SQLite counts in the same pass that finds the window's end; PostgreSQL's statistics put
    # 江南 in all 60 documents, three times the window: nothing to count.
    assert len(counts) == (0 if connection.vendor == "postgresql" else 1)
    # A rarer word is counted exactly on both.
    assert search_titles(query="第7卷", limits=Limits(window=20, facets=5, rank=5)).total == 1


def test_a_short_prefix_past_the_window_gives_the_answer_a_longer_one_does(db):
    """``gar`` (three letters: on SQLite its matches are read in one ordered pass) and ``gard``
    (head, then a count) match the same titles: every order, filter and page answers alike."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    add_titles(
        [
            {
                "title": f"Garden Notes {i}",
                "authors": ["Ann Lee"],
                "year": 2000 + i % 7,
                "popularity": (i * 37) % 50,
                "stock": i % 3,
            }
            for i in range(30)
        ]
    )
    limits = Limits(window=10, facets=4, rank=4)

    def answer(query: str, **options: object) -> tuple:
        result = search_titles(query=query, limits=limits, page_size=4, cached=False, **options)
        return (
            result.total,
            result.total_is_exact,
            [t.id for t in result.items],
            result.facets,
        )

    with CaptureQueriesContext(connection) as queries:
        short = answer("gar")
    assert short[:2] == (10, False)
    if connection.vendor == "sqlite":  # one pass over the index: no head, then count
        assert len([q for q in queries if "catalog_search_fts MATCH" in q["sql"]]) == 1
    for options in (
        {},
        {"page": 3},
        {"sort": "newest"},
        {"sort": "popularity", "page": 2},
        {"year_from": 2003},
        {"in_stock": True, "page": 2},
    ):
        assert answer("gar", **options) == answer("gard", **options), options
