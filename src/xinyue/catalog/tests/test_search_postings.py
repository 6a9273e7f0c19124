"""PostgreSQL: postings of the frequent Latin words and two-character Chinese terms answer a plan
exactly as GIN does (the same titles, order and totals), and stay exact through every kind of
index write: a title added, changed, deactivated or moved in the index order is found or not
found through them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.catalog.demo import demo_supplier
from xinyue.catalog.models import Title
from xinyue.catalog.search.backends import (
    POSTING_TABLE,
    TERM_TABLE,
    PostgresBackend,
    forget_statistics,
    pg_post_frequent,
)
from xinyue.catalog.search.isbn import parse_isbn
from xinyue.catalog.search.plan import make_plan
from xinyue.catalog.selectors.search import Limits, search_titles
from xinyue.catalog.services.imports import TitleData, bulk_add_titles
from xinyue.catalog.services.indexing import index_titles, rebuild_index, set_popularity
from xinyue.catalog.tests.engine_data import add_titles, fresh_isbn
from xinyue.core.actors import SYSTEM

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the postings are PostgreSQL's"
)

SMALL = Limits(window=12, facets=6, rank=6)
# One word, two words, a prefix written out as two lexemes (learn: learning, learner), a word
# that is also a pinyin prefix (data: 大塔 is "data"), one letter, four clauses, a page past
# the ranked head, a sort, an empty AND, a word in no document.
QUERIES = [
    ("python", {}),
    ("machine learning", {}),
    ("learn", {}),
    ("learn", {"sort": "newest"}),  # the window's end, counted where alternatives repeat
    ("data", {}),
    ("data science", {"page": 2, "page_size": 4}),
    ("a very short introduction", {}),
    ("garden", {"page": 3, "page_size": 5}),
    ("garden", {"sort": "newest"}),
    ("python garden", {}),
    ("qwxzvkjq", {}),
    ("introduction to gardens", {}),
    # A two-character Chinese term (its "|xy" key): in titles, authors, subjects, as a bigram.
    ("园林", {}),
    ("园林", {"page": 2, "page_size": 4}),
    ("园林", {"sort": "newest"}),
    ("python 园林", {}),
    ("园林 苏州", {}),
    # A longer Chinese term kept as one word: a publisher's (no bigrams), a title's.
    ("人民文学出版社", {}),
    ("人民文学出版社 python", {}),
    ("的园", {}),
    ("的园 园林", {}),
]


@pytest.fixture
def catalog(db):
    rows = []
    for i in range(20):
        rows.append({"title": f"Python Cookbook {i}", "popularity": (i * 37) % 101})
        rows.append({"title": f"Machine Learning with Python {i}", "year": 2000 + i})
        rows.append({"title": f"Data Science from Scratch {i}", "popularity": i})
        rows.append({"title": f"A Very Short Introduction to Gardens {i}", "popularity": i * 5})
    rows += [{"title": f"The Garden Learner {i}"} for i in range(4)]
    rows += [{"title": "大塔寺志", "authors": ["张三"]}, {"title": "Pythonic Ways"}]
    # Its pinyin (tongxing) starts with "to": "introduction to gardens" finds it without the word.
    rows += [{"title": "同行 Introduction Gardens", "popularity": 500}]
    # 园林 as a word of the title, of an author, of the subjects, only as a bigram (古园林木),
    # and 园 and 林 apart (not a match).
    rows += [{"title": f"江南园林 {i}", "popularity": (i * 13) % 29} for i in range(8)]
    rows += [{"title": f"苏州游记 {i}", "authors": ["王园林"]} for i in range(3)]
    rows += [{"title": f"城市规划 {i}", "subjects": "园林 设计"} for i in range(3)]
    rows += [{"title": "古园林木", "popularity": 40}, {"title": "Python 园林 手册"}]
    rows += [{"title": "林中小园"}]
    # 的园: the words 的 and 园 (apart: 园 的 故事), or the bigram ~的园 (我的园林笔记).
    rows += [{"title": f"我的园林笔记 {i}", "popularity": i} for i in range(6)]
    rows += [{"title": "园 的 故事", "popularity": 3}]
    rows += [{"title": f"长河 {i}", "publisher": "人民文学出版社"} for i in range(6)]
    rows += [{"title": "人民文学出版社六十年", "popularity": 7}]
    titles = add_titles(rows)
    forget_statistics()
    yield titles
    forget_statistics()


def answers() -> tuple[list, list[str]]:
    out = []
    with CaptureQueriesContext(connection) as queries:
        for query, kwargs in QUERIES:
            result = search_titles(query=query, limits=SMALL, cached=False, **kwargs)
            out.append((query, [t.id for t in result.items], result.total, result.total_is_exact))
    return out, [q["sql"] for q in queries]


def posted() -> set[tuple[str, int]]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lexeme, docid FROM {POSTING_TABLE}")
        return set(cursor.fetchall())


def reposted() -> set[tuple[str, int]]:
    """What the postings should hold, recomputed here: every stored document's posted lexemes,
    and its posted "|xy" keys (the word xy, or the bigram ~xy, of two characters)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lexeme FROM {TERM_TABLE} WHERE posted")
        flagged = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT docid, tsvector_to_array(vector) FROM catalog_searchdocument")
        rows = cursor.fetchall()
    out = set()
    for docid, lexemes in rows:
        keys = set(lexemes)
        keys |= {"|" + x for x in lexemes if len(x) == 2 and x[0] not in "~@="}
        keys |= {"|" + x[1:] for x in lexemes if len(x) == 3 and x[0] == "~"}
        out |= {(key, docid) for key in keys & flagged}
    return out


def test_postings_answer_exactly_as_gin(catalog):
    through_gin, sql_gin = answers()
    assert not any(POSTING_TABLE in s for s in sql_gin)  # nothing posted at 2,000 documents

    assert pg_post_frequent(min_documents=5, min_pair_documents=5) > 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT lexeme FROM {TERM_TABLE} WHERE posted ORDER BY lexeme")
        flagged = [r[0] for r in cursor.fetchall()]
    assert {"python", "machine", "learning", "gardens", "a", "|园林", "人民文学出版社"} <= set(
        flagged
    )
    assert not any(x.startswith("~") or x == "园林" for x in flagged)  # the key, not its parts
    assert "garden" not in flagged  # 4 documents: garden is gardens (posted) and garden (GIN)
    assert "pythonic" not in flagged
    assert "learner" not in flagged
    assert posted() == reposted()

    through_postings, sql_postings = answers()
    assert through_postings == through_gin
    assert through_gin[0][2:] == (12, False)  # python: 41 matches, a window of 12
    assert through_gin[3][2] == 12
    assert through_gin[QUERIES.index(("python garden", {}))][2] == 0
    assert through_gin[QUERIES.index(("qwxzvkjq", {}))][2] == 0
    gardens = next(a for a in through_gin if a[0] == "introduction to gardens")
    assert gardens[2:] == (12, False)  # 20 with the word, and 同行 by its pinyin
    assert gardens[1][0] == catalog[86].pk
    yuanlin = next(a for a in through_gin if a[0] == "园林")
    assert yuanlin[2:] == (12, False)  # 22 titles: the word in 3 columns, the bigram; not 林中小园
    # Relevance among the head's titles: by interest.
    assert yuanlin[1][:2] == [catalog[101].pk, catalog[89].pk]  # 古园林木 (40), 江南园林 2 (26)
    assert through_gin[QUERIES.index(("园林 苏州", {}))][2] == 3  # 苏州游记 by 王园林
    assert through_gin[QUERIES.index(("的园", {}))][2] == 7  # 6 by the bigram, 1 by the words
    assert through_gin[QUERIES.index(("的园 园林", {}))][2] == 6
    publisher = through_gin[QUERIES.index(("人民文学出版社", {}))]
    assert publisher[2] == 7
    assert publisher[1][0] == catalog[-1].pk  # in its title
    assert any(POSTING_TABLE in s for s in sql_postings)
    # Read from the postings: no GIN statement collects or counts a window (LIMIT 13) of it.
    with CaptureQueriesContext(connection) as queries:
        search_titles(query="machine learning", limits=SMALL, cached=False)
    windows = [q["sql"] for q in queries if "@@" in q["sql"] and "LIMIT 13" in q["sql"]]
    assert windows == []
    assert any("LIMIT 13" in q["sql"] and POSTING_TABLE in q["sql"] for q in queries)


def test_which_plans_the_postings_answer(catalog):
    pg_post_frequent(min_documents=5, min_pair_documents=5)
    backend = PostgresBackend()

    def reads_postings(query: str, fields: dict | None = None) -> bool:
        return backend.posted_matches(make_plan(query, fields), 13) is not None

    assert reads_postings("python")
    assert reads_postings("machine learn")  # learn: learning (posted), learner (6: the rest)
    assert reads_postings("data")  # its pinyin alternative (大塔) read through GIN
    assert not reads_postings("gardens to")  # to: a short pinyin prefix (同行 is tongxing)
    assert reads_postings("园林")  # its "|园林" key
    assert not reads_postings("python 园林")  # an AND with a Chinese term: GIN
    assert reads_postings("人民文学出版社")  # one word: the word, and its bigrams' phrase
    assert reads_postings("的园")  # the key |的园 (no word 的园), the words 的 & 园 by GIN
    assert not reads_postings("的园 园林")
    assert not reads_postings("python 园")  # one character: a prefix of the bigrams
    assert not reads_postings("的我")  # nothing posted: 的 & 我 and ~的我 are rare (GIN)
    # No part of 的河 has postings (no word 河, no bigram ~的河): not even looked up.
    with CaptureQueriesContext(connection) as queries:
        assert not PostgresBackend().posted_matches(make_plan("的河"), 13)
    assert len(queries) == 0
    assert not reads_postings("园林", {"title": "园林"})  # a pair in some columns only
    assert not reads_postings("python 2024")  # a number
    assert not reads_postings("python", {"title": "machine"})  # a clause in some columns
    # Known empty without a statement on the documents: no lexeme starts with zzyzx.
    assert backend.posted_matches(make_plan("python qwxzvkjq"), 13) == []
    # The first 13 in index order, as GIN orders them.
    docids = backend.posted_matches(make_plan("python"), 13)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT docid FROM catalog_searchdocument WHERE vector @@ %s::tsquery "
            "ORDER BY docid LIMIT 13",
            [backend.match(make_plan("python"))[1][0]],
        )
        assert docids == [r[0] for r in cursor.fetchall()]


def test_the_postings_stay_exact_through_every_kind_of_index_write(catalog):
    pg_post_frequent(min_documents=5, min_pair_documents=5)

    def posted_titles(query: str) -> list[int]:
        # A backend per search, as the selector has (it keeps the term rows it read).
        docids = PostgresBackend().posted_matches(make_plan(query), 1000)
        assert docids is not None, query
        return [d & 0xFFFFFFFF for d in docids]

    # Added: a new title is found through the postings of python and cookbook.
    (new,) = add_titles([{"title": "Python Cookbook Extra"}])
    assert posted() == reposted()
    assert new.pk in posted_titles("python cookbook")
    assert len(posted_titles("python cookbook")) == 21

    # Added by a bulk load (the index built at the end): posted as it is inserted.
    isbn = parse_isbn(fresh_isbn())
    bulk_add_titles(
        actor=SYSTEM,
        supplier=demo_supplier(),
        titles=[
            TitleData(
                isbn13=isbn.isbn13,
                isbn10=isbn.isbn10,
                title="Python Cookbook Bulk",
                list_price_fen=3000,
                stock=1,
            )
        ],
        bulk=True,
    )
    assert posted() == reposted()
    assert len(posted_titles("python cookbook")) == 22

    # Changed: no longer python, now garden.
    Title.objects.filter(pk=new.pk).update(title="Garden Cookbook Extra")
    index_titles(title_ids=[new.pk])
    assert posted() == reposted()
    assert new.pk not in posted_titles("python cookbook")
    assert len(posted_titles("python cookbook")) == 21
    assert new.pk in posted_titles("gardens cookbook") or new.pk in posted_titles("cookbook")
    assert new.pk not in posted_titles("gardens")

    # Moved in the index order: its postings follow the docid, and it comes first.
    assert posted_titles("cookbook")[0] != new.pk
    assert set_popularity(popularity={new.pk: 100_000}) == 1
    assert posted() == reposted()
    assert posted_titles("cookbook")[0] == new.pk
    assert search_titles(query="cookbook", limits=SMALL, cached=False).total == 12

    # Removed: its postings go with the document.
    Title.objects.filter(pk=new.pk).update(is_active=False)
    index_titles(title_ids=[new.pk])
    assert posted() == reposted()
    assert not any(docid & 0xFFFFFFFF == new.pk for _, docid in posted())
    assert new.pk not in posted_titles("cookbook")

    # A two-character Chinese term: added, changed away, moved, removed.
    assert len(posted_titles("园林")) == 22
    (garden,) = add_titles([{"title": "扬州园林史话"}])
    assert posted() == reposted()
    assert garden.pk in posted_titles("园林")
    set_popularity(popularity={garden.pk: 100_000})
    assert posted() == reposted()
    assert posted_titles("园林")[0] == garden.pk
    Title.objects.filter(pk=garden.pk).update(title="扬州史话")
    index_titles(title_ids=[garden.pk])
    assert posted() == reposted()
    assert garden.pk not in posted_titles("园林")
    Title.objects.filter(pk=garden.pk).update(title="扬州园林史话", is_active=False)
    index_titles(title_ids=[garden.pk])
    assert posted() == reposted()
    assert len(posted_titles("园林")) == 22

    # A rebuild keeps which lexemes are posted and posts the documents again.
    before = posted()
    rebuild_index()
    assert posted() == before == reposted()
