"""PostgreSQL decides relevance tiers 1 and 2 on the head's vectors in SQL (``tier_tests``): for
every document and every kind of query term, the same answer as ``Clause.matcher`` on the
document's tokens (what SQLite uses), and so the same ranking."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.catalog.search.backends import PostgresBackend
from xinyue.catalog.search.plan import TITLE_AUTHOR_GROUP, TITLE_GROUP, Columns, make_plan
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.tests.engine_data import add_titles

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the tiers in SQL are PostgreSQL's"
)

# A word, a bigram inside a word, a phrase of bigrams, one character, pinyin in full, as
# initials and unfinished, English words and prefixes, digits, two terms in different fields,
# per-field searches.
QUERIES = [
    ("园林", None),
    ("南园", None),
    ("江南园林", None),
    ("林", None),
    ("jiangnan", None),
    ("jnyl", None),
    ("jiangn", None),
    ("garden", None),
    ("gard", None),
    ("python learn", None),
    ("2024", None),
    ("园林 刘慈欣", None),
    ("东野圭吾 白夜", None),
    ("", {"author": "刘慈欣"}),
    ("园林", {"author": "liucixin"}),
]


@pytest.fixture
def catalog(db):
    return add_titles(
        [
            {"title": "江南园林志", "authors": ["童寯"]},
            {"title": "苏州游记", "authors": ["王园林"], "subjects": "园林"},
            {"title": "城市规划", "subtitle": "江南园林与城市", "authors": ["刘慈欣"]},
            {"title": "The Garden Book", "authors": ["Jiang Nan"], "subjects": "gardening"},
            {"title": "Python for Learners 2024", "authors": ["Garden Smith"]},
            {"title": "白夜行", "authors": ["东野圭吾"], "publisher": "南海出版公司"},
            {"title": "林中小园", "authors": ["刘慈欣"]},
            {"title": "三体", "authors": ["刘慈欣"], "subjects": "江南园林 2024"},
            {"title": "Learning Python", "subtitle": "Garden edition"},
            {"title": "东野圭吾的白夜", "authors": ["园林出版"]},
        ]
    )


def token_rows(docids: list[int]) -> dict[int, tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT docid, t, a, tg, ag, pt, pa FROM catalog_searchdocument WHERE docid = ANY(%s)",
            [docids],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def tier_plans(plan):
    """Relevance's tiers 1 and 2: every term in the title; in the title or the authors."""
    return plan.restricted(TITLE_GROUP), plan.restricted(TITLE_AUTHOR_GROUP)


def python_tiers(plan, tokens: tuple) -> tuple[bool, bool]:
    t, a, tg, ag, pt, pa = (f" {x or ''} " for x in tokens)
    columns = Columns(t=t, a=a, tg=tg, ag=ag, pt=pt, pa=pa)
    title, title_or_authors = tier_plans(plan)
    return title.matcher()(columns), title_or_authors.matcher()(columns)


def test_the_tiers_in_sql_are_the_matchers_answers(catalog):
    with connection.cursor() as cursor:
        cursor.execute("SELECT docid FROM catalog_searchdocument ORDER BY docid")
        docids = [row[0] for row in cursor.fetchall()]
    tokens = token_rows(docids)
    backend = PostgresBackend()
    seen = set()
    for query, fields in QUERIES:
        plan = make_plan(query, fields)
        assert plan.clauses, query
        columns, params = backend.tier_tests(tier_plans(plan), rows=backend.tier_tests_from)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT d.docid, {columns} FROM catalog_searchdocument d WHERE d.docid = ANY(%s)",
                [*params, docids],
            )
            in_sql = {row[0]: (row[1], row[2]) for row in cursor.fetchall()}
        in_python = {d: python_tiers(plan, tokens[d]) for d in docids}
        assert in_sql == in_python, query
        seen |= set(in_python.values())
    # Every outcome occurs: the comparison is not of all-false answers.
    assert seen == {(True, True), (False, True), (False, False)}


def test_a_head_of_sixteen_or_more_is_ranked_by_the_tiers_in_sql(db):
    # 24 titles: enough for the tiers in SQL (``tier_tests_from``); 园林 in titles, authors
    # and subjects, at several popularities, the subjects' titles the most popular.
    titles = add_titles(
        [{"title": f"江南园林 {i}", "popularity": (i * 7) % 13} for i in range(8)]
        + [{"title": f"游记 {i}", "authors": ["王园林"], "popularity": i} for i in range(8)]
        + [{"title": f"规划 {i}", "subjects": "园林", "popularity": 20 + i} for i in range(7)]
        + [{"title": "园林"}]
    )
    assert len(titles) >= PostgresBackend.tier_tests_from
    with CaptureQueriesContext(connection) as queries:
        result = search_titles(query="园林", page_size=24, cached=False)
    assert any("d.vector @@" in q["sql"] and "t.title" in q["sql"] for q in queries)
    by_id = {t.pk: i for i, t in enumerate(titles)}
    order = [by_id[item.id] for item in result.items]
    assert order[0] == 23  # the title is the query
    assert sorted(order[1:9]) == list(range(8))  # then every title with the word
    assert sorted(order[9:17]) == list(range(8, 16))  # then the authors'
    assert order[17:] == list(range(22, 15, -1))  # then the subjects', the most wanted first
