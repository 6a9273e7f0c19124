"""The engine's tokens, plans, ISBN handling and highlighting (no database)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyue.catalog.search import text
from xinyue.catalog.search.backends import PostgresBackend, SqliteBackend, pg_vector_literal
from xinyue.catalog.search.highlight import highlight
from xinyue.catalog.search.isbn import isbn_problem, parse_isbn
from xinyue.catalog.search.plan import build_document, docid, make_plan


def test_fold_makes_full_width_and_case_alike():
    assert text.fold("ＰＹＴＨＯＮ　编程") == "python 编程"
    assert text.fold("Café") == "cafe"
    assert text.normalize_query("  三体\t  刘慈欣  ") == "三体 刘慈欣"
    assert text.normalize_query("a\x00b\ud800c\u200b d") == "abc d"


def test_fold_han_keeps_every_string_length():
    """Relevance's tier 0 folds only titles as long as the query (``selectors.search._rank``):
    sound only while OpenCC's t2s maps every character and phrase to as many characters."""
    every_cjk = "".join(chr(c) for lo, hi in text._CJK_RANGES for c in range(lo, hi + 1))
    assert len(text.fold_han(every_cjk)) == len(every_cjk)
    for phrase in (
        "錢鍾書",
        "乾隆皇帝",
        "萬曆十五年",
        "著名的乾坤",
        "後來",
        "衞淸靑戸凃竝",
        "三體 Ⅱ",
    ):
        assert len(text.fold_han(phrase)) == len(phrase)
    assert text.fold_han("錢鍾書 圍城") == "钱钟书 围城"


def test_runs_split_scripts_and_drop_punctuation_and_emoji():
    assert text.runs("嫌疑人X的献身") == ["嫌疑人", "x", "的献身"]
    assert text.runs("Python编程：从入门到实践😀") == ["python", "编程", "从入门到实践"]
    assert text.runs('"围城" OR * NEAR(a)') == ["围城", "or", "near", "a"]


def test_grams_are_the_bigram_chain_of_each_run():
    assert text.grams("解忧杂货店") == ["解忧", "忧杂", "杂货", "货店"]
    assert text.grams("三体Ⅱ") == ["三体"]
    assert text.grams("猫") == ["猫"]


def test_pinyin_gives_full_spelling_initials_and_words():
    assert text.pinyin("东野圭吾")[:2] == ["dongyeguiwu", "dygw"]
    assert "zahuodian" in text.pinyin("解忧杂货店") or "zahuo" in text.pinyin("解忧杂货店")
    assert text.pinyin("重庆")[0] == "chongqing"  # reading chosen by phrase
    assert text.pinyin("Python") == []


def test_document_columns_hold_words_grams_pinyin_and_filters():
    doc = build_document(
        title="白夜行",
        authors=["东野圭吾"],
        publisher="南海出版公司",
        subjects="推理小说; 日本",
        isbn13="9787544258609",
        isbn10="7544258602",
        category_id=7,
    )
    assert "白夜" in doc.t
    assert doc.tg == ["白夜", "夜行"]
    assert doc.ag == ["东野", "野圭", "圭吾"]
    assert "dongyeguiwu" in doc.pa
    assert "dygw" in doc.pa
    assert "9787544258609" in doc.s
    assert "7544258602" in doc.s
    assert doc.f[0] == "c7"
    assert doc.f[1].startswith("p")


def test_docid_puts_popular_titles_first_and_keeps_the_title_id():
    assert docid(5, 1000) < docid(5, 10) < docid(5, 0)
    assert docid(123, 77) & 0xFFFFFFFF == 123
    assert docid(1, 0) < docid(2, 0)


@pytest.mark.parametrize(
    ("raw", "isbn13"),
    [
        ("978-7-02-002475-9", "9787020024759"),
        ("9787020024759", "9787020024759"),
        ("7-02-002475-0", "9787020024759"),
        ("7020024750", "9787020024759"),
        ("ISBN 978 7 02 002475 9", "9787020024759"),
        ("ISBN：7-5442-5860-2", "9787544258609"),
    ],
)
def test_isbn_in_any_form(raw, isbn13):
    assert parse_isbn(raw).isbn13 == isbn13


def test_isbn_problems_are_named():
    assert parse_isbn("9787020024758") is None
    assert isbn_problem("9787020024758") == "ISBN 校验位错误（9787020024758）"
    assert isbn_problem("12345") == "ISBN 格式错误（12345）"
    assert isbn_problem("") == "缺少 ISBN"
    assert isbn_problem("978-7-02-002475-9") is None


def test_an_isbn_query_is_a_lookup_not_words():
    plan = make_plan("978-7-02-002475-9")
    assert plan.isbn.isbn13 == "9787020024759"
    assert plan.clauses == []


def test_a_query_of_symbols_only_can_match_nothing():
    assert make_plan("😀 !!! ***").impossible
    assert make_plan("").is_empty
    assert make_plan("", fields={"isbn": "123"}).impossible


def test_long_input_is_cut():
    plan = make_plan("书" * 1000)
    assert len(plan.clauses) == 1
    assert len(plan.clauses[0].term.text) <= 100
    plan = make_plan(" ".join(f"w{i}" for i in range(50)))
    assert len(plan.clauses) == 12


def test_both_engines_compile_the_same_plan():
    plan = make_plan("东野 dygw 2024")
    fts = SqliteBackend().match_expression(plan)
    tsq = PostgresBackend().tsquery(plan)
    assert fts == (
        '(({t a p s tg ag} : "东野")) AND (({t a p s pt pa} : "dygw"*)) AND (({t a p s} : "2024"))'
    )
    # A word that is not its own bigram keeps its two alternatives.
    assert SqliteBackend().match_expression(make_plan("嫌疑人")) == (
        '(({t a p s} : ("嫌疑人")) OR ({tg ag} : "嫌疑 疑人"))'
    )
    assert tsq == "(('东野') | ('~东野')) & ('dygw':* | '@dygw':*) & ('2024')"


def test_per_field_plans_restrict_columns():
    plan = make_plan("", fields={"author": "余华", "title": "活着"})
    tsq = PostgresBackend().tsquery(plan)
    assert "'余华':B" in tsq
    assert "'~余华':B" in tsq
    assert "'活着':A" in tsq
    assert SqliteBackend().match_expression(plan).startswith('(({a ag} : "余华"))')


def test_vector_literal_keeps_positions_weights_and_namespaces():
    doc = build_document(title="白夜行", authors=["东野圭吾"])
    literal = pg_vector_literal(doc)
    assert "'~白夜':8001A" in literal
    assert "'~夜行':8002A" in literal
    assert "'~东野':10001B" in literal
    assert "'@dygw':" in literal


def test_highlight_marks_words_names_and_pinyin_and_escapes():
    terms = make_plan("杂货").highlight_terms
    assert highlight("解忧杂货店", terms) == "解忧<mark>杂货</mark>店"
    assert highlight("<b>杂货</b>", terms) == "&lt;b&gt;<mark>杂货</mark>&lt;/b&gt;"
    assert highlight("东野圭吾", make_plan("dygw").highlight_terms) == "<mark>东野圭吾</mark>"
    assert highlight("东野圭吾", make_plan("dongye").highlight_terms) == "<mark>东野</mark>圭吾"
    assert highlight("Fluent Python", make_plan("pyth").highlight_terms) == (
        "Fluent <mark>Pyth</mark>on"
    )
    assert highlight("围城", make_plan("").highlight_terms) == "围城"


def test_pinyin_highlight_reads_a_character_any_of_its_ways():
    """Highlighting takes every reading of a character (the index decided the match by phrase):
    a polyphonic character is marked whichever reading the query spells; a reading it does not
    have marks nothing."""
    marked = {
        ("重庆", "chongqing"): "<mark>重庆</mark>",
        ("重要的事", "zhongyao"): "<mark>重要</mark>的事",
        ("银行家", "yinhang"): "<mark>银行</mark>家",
        ("行走江湖", "xingz"): "<mark>行走</mark>江湖",
        ("长江文艺出版社", "zj"): "<mark>长江</mark>文艺出版社",
        ("长江文艺出版社", "cj"): "<mark>长江</mark>文艺出版社",
        ("绿野仙踪", "lvye"): "<mark>绿野</mark>仙踪",
        ("东野圭吾", "dongyeg"): "<mark>东野圭</mark>吾",
        ("Python编程", "python"): "<mark>Python</mark>编程",
        ("重庆", "qiang"): "重庆",
        ("重庆", "zq"): "<mark>重庆</mark>",
        ("重庆", "cx"): "重庆",
    }
    for (value, query), expected in marked.items():
        assert highlight(value, make_plan(query).highlight_terms) == expected, (value, query)
    # A long query over a long run of many-reading characters: each (character, letters read)
    # state once, so it answers (and marks every character, each read "a").
    run = "阿" * 300
    assert highlight(run, make_plan("a" * 90).highlight_terms) == f"<mark>{run}</mark>"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=300))
def test_any_text_makes_a_plan_both_engines_can_compile(value):
    plan = make_plan(value, fields={"title": value[:20], "isbn": value[:13]})
    SqliteBackend().match_expression(plan)
    PostgresBackend().tsquery(plan)
    text.normalize_query(value)


@pytest.mark.parametrize(
    ("term", "expected"),
    [
        ("dygw", True),  # initials
        ("dongyeguiwu", True),
        ("jieyouzahuod", True),  # the last syllable unfinished
        ("weicheng", True),
        ("introduction", False),
        ("history", False),
        ("learning", False),
    ],
)
def test_long_latin_terms_are_looked_up_in_pinyin_only_when_they_could_be_pinyin(term, expected):
    assert text.could_be_pinyin(term) is expected
    assert ("pt pa}" in SqliteBackend().match_expression(make_plan(term))) is expected
    assert ("'@" in PostgresBackend().tsquery(make_plan(term))) is expected
