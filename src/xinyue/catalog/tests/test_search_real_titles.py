"""Search over the demo's real titles: names, pinyin and initials, ISBN forms, two-character words
and English (run on SQLite and on PostgreSQL)."""

from __future__ import annotations

import pytest

from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.tests.engine_data import load_real_titles

HIGASHINO = {"白夜行", "嫌疑人X的献身", "解忧杂货店", "恶意", "放学后"}


@pytest.fixture
def real(db):
    return load_real_titles()


def titles(result):
    return [t.title for t in result.items]


@pytest.mark.parametrize("query", ["东野圭吾", "dongye", "dygw", "DYGW", "dongyeguiwu", "东野"])
def test_higashino_by_name_pinyin_and_initials(real, query):
    result = search_titles(query=query)
    assert set(titles(result)) == HIGASHINO
    assert result.total == 5
    assert result.total_is_exact


def test_weicheng_ranks_weicheng_first(real):
    result = search_titles(query="围城")
    assert titles(result) == ["围城"]
    assert search_titles(query="weicheng").items[0].title == "围城"


@pytest.mark.parametrize(
    "query",
    [
        "978-7-02-002475-9",
        "9787020024759",
        "7-02-002475-0",
        "7020024750",
        "ISBN 978-7-02-002475-9",
        " 978 7 02 002475 9 ",
    ],
)
def test_an_isbn_with_or_without_hyphens_10_or_13_digits_finds_its_book(real, query):
    result = search_titles(query=query)
    assert titles(result) == ["围城"]
    assert result.total == 1


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("忧杂", {"解忧杂货店"}),  # not a word: cut between 解忧 and 杂货 by the segmenter
        ("杂货", {"解忧杂货店"}),
        ("疑人", {"嫌疑人X的献身"}),
        ("十五", {"万历十五年"}),
        ("夜行", {"白夜行"}),
        ("风筝", {"追风筝的人"}),
        ("慈欣", {"三体", "三体Ⅱ", "三体Ⅲ", "流浪地球", "球状闪电"}),  # inside a name
    ],
)
def test_a_two_character_word_in_the_middle_finds_it(real, query, expected):
    assert set(titles(search_titles(query=query))) == expected


def test_english_and_mixed_queries(real):
    assert set(titles(search_titles(query="python"))) == {"Python编程", "Fluent Python"}
    assert titles(search_titles(query="python 编程")) == ["Python编程"]
    assert titles(search_titles(query="clean code")) == ["Clean Code"]
    assert titles(search_titles(query="东野圭吾 白夜行")) == ["白夜行"]
