"""The search page keeps its answer without the result items (``views.ANSWERS``: the search box,
facets, totals, sorts, filters and pager) per search and language, and puts each request's items
— stock read now, the visitor's own shelf buttons — in its place. A kept answer must read exactly
like one rendered afresh, for guests and readers, in both languages, on every kind of page."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings

from xinyue.catalog import views
from xinyue.catalog.services.offers import update_stock
from xinyue.catalog.tests.portal_data import library_shelf, new_reader
from xinyue.core.actors import SYSTEM
from xinyue.suppliers.models import Supplier

SEARCHES = [
    {"q": "东野圭吾"},
    {"q": "东野圭吾", "sort": "newest"},
    {"q": "东野圭吾", "in_stock": "1"},
    {"q": "东野圭吾", "publisher": "南海出版公司"},
    {"q": "东野圭吾", "year_from": "2013", "year_to": "2013"},
    {"q": "东野圭吾", "category": "侦探/悬疑/推理"},
    {"q": "东野圭吾", "page": "2"},  # past the last page
    {"q": "没有这样的书名"},  # nothing found
    {"q": "没有这样的书名", "in_stock": "1"},  # nothing found, with a filter to clear
    {"title": "白夜行", "author": "东野圭吾"},
    {"q": "python"},
    {"q": "<xinyue-books>"},
]


@pytest.fixture
def books(db, categories):
    return library_shelf()


def page(client: Client, params: dict[str, str]) -> str:
    response = client.get("/search/", params)
    assert response.status_code == 200
    # Each form's CSRF token is masked afresh on every render.
    return re.sub(
        r'name="csrfmiddlewaretoken" value="[^"]+"',
        'name="csrfmiddlewaretoken" value=""',
        response.content.decode(),
    )


def visitors() -> dict[str, Client]:
    guest, reader, english = Client(), Client(), Client()
    reader.force_login(new_reader().user)
    english.cookies["django_language"] = "en"
    return {"guest": guest, "reader": reader, "english": english}


def test_a_kept_answer_reads_exactly_like_one_rendered_afresh(books, settings):
    clients = visitors()
    clients["reader"].post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    clients["guest"].post("/shelf/add/", {"title_id": books["xianyiren"].pk})
    for client in clients.values():
        client.get("/shelf/")  # shows (and so spends) the "added" message
    with override_settings(XINYUE_SEARCH_CACHE_SECONDS=0):
        fresh = {
            (who, i): page(client, params)
            for who, client in clients.items()
            for i, params in enumerate(SEARCHES)
        }
    assert len(views.ANSWERS) == 0
    for _round in ("filled", "kept"):
        for who, client in clients.items():
            for i, params in enumerate(SEARCHES):
                assert page(client, params) == fresh[who, i], (who, params)
    # One answer per search with books on its page and language; none for the others.
    assert len(views.ANSWERS) == 2 * 8
    assert views.ANSWERS.hits == 2 * 3 * 8 - 16


def test_the_answer_of_a_search_and_its_items(books):
    clients = visitors()
    clients["reader"].post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    clients["reader"].get("/shelf/")
    for _round in ("filled", "kept"):
        body = page(clients["reader"], {"q": "东野圭吾"})
        assert re.findall(r'<li class="book" id="title-(\d+)">', body) == [
            str(books["baiyexing"].pk),
            str(books["xianyiren"].pk),
        ]
        assert body.count('<ol class="books">') == 1
        assert '<p class="total" id="result-total">找到 2 本书</p>' in body
        assert (
            '<a href="/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE&amp;publisher='
            '%E5%8D%97%E6%B5%B7%E5%87%BA%E7%89%88%E5%85%AC%E5%8F%B8">南海出版公司 '
            '<span class="count">2</span></a>'
        ) in body
        assert '<a href="/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE&amp;sort=newest">' in body
        assert body.count('<button class="on-shelf"') == 1
        assert body.count('<button class="add-shelf"') == 1
        assert 'class="pager"' not in body
        english = page(clients["english"], {"q": "东野圭吾"})
        assert '<p class="total" id="result-total">2 books found</p>' in english
        assert "找到 2 本书" not in english
    assert len(views.ANSWERS) == 2  # one per language


def test_stock_shows_at_once_on_a_kept_answer(books):
    guest = Client()
    before = page(guest, {"q": "白夜行"})
    assert '<span class="stock ok">有货</span>' in before
    update_stock(
        actor=SYSTEM,
        supplier=Supplier.objects.get(code="zjxinhua"),
        isbn=books["baiyexing"].isbn13,
        stock=0,
    )
    after = page(guest, {"q": "白夜行"})
    assert '<span class="stock no">暂无库存</span>' in after
    assert '<span class="stock ok">' not in after
    assert views.ANSWERS.hits == 1


def test_a_query_spelling_the_items_place_changes_nothing(books):
    body = page(Client(), {"q": "<xinyue-books>"})
    assert "<xinyue-books>" not in body
    assert 'value="&lt;xinyue-books&gt;"' in body
    assert re.findall(r'<li class="book"', body) == []
