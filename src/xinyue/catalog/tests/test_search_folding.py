"""Traditional and variant Han characters are folded to one form on both sides of the index:
圍城 finds 围城, 钱钟书 finds 钱锺书, a title stored in traditional characters is found in
simplified ones (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

from importlib import import_module

import pytest
from django.apps import apps

from xinyue.catalog.models import SearchDocument, Title
from xinyue.catalog.search import text
from xinyue.catalog.search.backends import get_backend
from xinyue.catalog.search.highlight import highlight
from xinyue.catalog.search.plan import Document, docid, make_plan
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.tests.engine_data import add_titles

ROWS = [
    {"title": "围城", "authors": ["钱锺书"], "publisher": "人民文学出版社", "year": 1991, "category": "中国文化", "popularity": 90},
    {"title": "萬曆十五年", "authors": ["黃仁宇"], "publisher": "中華書局", "year": 1982, "category": "中国文化", "popularity": 40},
    {"title": "解忧杂货店", "authors": ["东野圭吾"], "publisher": "南海出版公司", "year": 2014, "category": "中国文化", "popularity": 80},
    {"title": "钟表的历史", "authors": ["王芳"], "publisher": "浙江大学出版社", "year": 2015, "category": "中国文化", "popularity": 5},
]  # fmt: skip

migration = import_module("xinyue.catalog.migrations.0007_fold_han_reindex")


@pytest.fixture
def shelf(db):
    return dict(enumerate(add_titles(ROWS), start=1))


def found(query: str, shelf, **kwargs) -> list[int]:
    by_id = {t.id: n for n, t in shelf.items()}
    return [by_id[t.id] for t in search_titles(query=query, **kwargs).items]


def test_fold_han_writes_traditional_and_variants_in_one_form():
    assert text.fold_han("圍城") == "围城"
    assert text.fold_han("錢鍾書") == "钱钟书"
    assert text.fold_han("钱锺书") == "钱钟书"
    assert text.fold_han("東野圭吾 解憂雜貨店") == "东野圭吾 解忧杂货店"
    assert text.fold_han("python 3") == "python 3"
    assert text.fold_han("ノルウェイの森") == "ノルウェイの森"  # kana untouched
    assert text.runs("萬曆十五年 Ｐython") == ["万历十五年", "python"]
    assert text.fold_han("圍城\ud800") == "围城"  # a lone surrogate never reaches OpenCC
    assert text.fold_han_char("鍾") == "钟"
    assert text.fold_han_char("锺") == "钟"


def test_both_spellings_of_a_name_make_the_same_plan():
    assert make_plan("钱钟书").clauses == make_plan("钱锺书").clauses == make_plan("錢鍾書").clauses


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("钱钟书", [1]),
        ("钱锺书", [1]),
        ("錢鍾書", [1]),
        ("圍城", [1]),
        ("围城 錢鍾書", [1]),
        ("万历十五年", [2]),  # stored in traditional characters, asked in simplified
        ("萬曆", [2]),
        ("黄仁宇", [2]),
        ("中华书局", [2]),
        ("東野圭吾", [3]),
        ("解憂雜貨店", [3]),
        ("鐘錶", [4]),
        ("钟", [4, 1]),  # 钟表 by its title, 钱锺书 by the author's bigram
    ],
)
def test_traditional_and_variant_queries_find_the_title(shelf, query, expected):
    assert found(query, shelf) == expected


def test_per_field_search_folds_too(shelf):
    assert found("", shelf, fields={"author": "錢鍾書"}) == [1]
    assert found("", shelf, fields={"title": "圍城"}) == [1]
    assert found("", shelf, fields={"author": "錢鍾書", "title": "萬曆"}) == []


def test_the_stored_spelling_is_shown_and_marked():
    terms = make_plan("钱钟书 圍城").highlight_terms
    assert str(highlight("钱锺书", terms)) == "<mark>钱锺书</mark>"
    assert str(highlight("圍城", terms)) == "<mark>圍城</mark>"
    assert (
        str(highlight("萬曆十五年", make_plan("万历").highlight_terms)) == "<mark>萬曆</mark>十五年"
    )


def test_the_exact_title_in_another_script_ranks_first(shelf):
    extra = add_titles([{"title": "围城内外的故事", "authors": ["李强"], "popularity": 100}])[0]
    result = search_titles(query="圍城")
    assert [t.id for t in result.items] == [shelf[1].id, extra.id]


def test_the_migration_rebuilds_documents_written_with_the_old_tokens(shelf):
    weicheng = shelf[1]
    # What the tokenizer of migration 0005 stored for 钱锺书 (no variant folding).
    stale = Document(t=["围城"], a=["钱锺书"], p=[], s=[], tg=["围城"], ag=["钱锺", "锺书"], pt=["weicheng"], pa=["qianzhongshu"], f=[])  # fmt: skip
    backend = get_backend()
    backend.delete_documents([weicheng.id])
    backend.insert_documents([(weicheng.id, docid(weicheng.id, 90), stale)])
    assert found("钱钟书", shelf) == []

    migration.reindex(apps, None)

    assert found("钱钟书", shelf) == [1]
    assert SearchDocument.objects.get(title=weicheng).a == "钱钟书"
    assert SearchDocument.objects.count() == Title.objects.filter(is_active=True).count() == 4
