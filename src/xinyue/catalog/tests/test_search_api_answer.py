"""The API search answer (``catalog.api``): each item's JSON is kept per title row, category name
and highlighted terms (``ITEM_JSON``) with its stock written in on every request. The answer is
exactly the one ``SearchOut`` validates and renders, and whatever a title shows — however it was
changed — and its stock are as fresh as the rows read on the request."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from xinyue.api import api
from xinyue.catalog.api import ITEM_JSON, SearchOut, item_out
from xinyue.catalog.models import Offer, Title
from xinyue.catalog.selectors import portal
from xinyue.catalog.selectors.search import GENERATION_KEY, search_titles
from xinyue.catalog.tests.portal_data import library_shelf
from xinyue.core import counters

QUERIES = [
    {"q": "东野圭吾"},
    {"q": "围城"},
    {"q": "dygw"},
    {"q": "weic"},
    {"q": ""},
    {"q": "", "sort": "newest"},
    {"q": "小说", "page_size": 2, "page": 2},
    {"q": "9787544242516"},
    {"q": "没有这样的书名"},
    {"q": "东野圭吾", "in_stock": "true"},
    {"author": "钱锺书"},
]


@pytest.fixture
def books(db, categories):
    ITEM_JSON.clear()
    yield library_shelf()
    ITEM_JSON.clear()


def reference(params: dict) -> bytes:
    """The same answer through the schema: ORM titles, ``item_out``, ``SearchOut`` validation."""
    fields = {k: params[k] for k in ("author",) if k in params}
    result = search_titles(
        query=params.get("q", ""),
        sort=params.get("sort", "relevance"),
        page=int(params.get("page", 1)),
        page_size=int(params.get("page_size", 20)),
        in_stock=params.get("in_stock") == "true",
        fields=fields or None,
    )
    items = portal.with_stock(list(result.items))
    body = {
        "total": result.total,
        "total_is_exact": result.total_is_exact,
        "facets_are_exact": result.facets_are_exact,
        "page": result.page,
        "page_size": result.page_size,
        "normalized_query": result.normalized_query,
        "items": [item_out(t) for t in items],
        "facets": {
            name: [{"value": v, "count": n} for v, n in result.facets[name]]
            for name in ("category", "year", "publisher")
        },
    }
    data = SearchOut.model_validate(body).model_dump(mode="json")
    return api.renderer.render(None, data, response_status=200).encode()


def test_answers_are_byte_for_byte_the_schema_s_first_time_and_from_the_item_cache(
    books, client: Client
):
    for params in QUERIES:
        expected = reference(params)
        first = client.get("/api/v1/catalog/search", params)
        again = client.get("/api/v1/catalog/search", params)
        assert first.status_code == again.status_code == 200
        assert first.content == expected, params
        assert again.content == expected, params
    assert ITEM_JSON.hits > 0
    assert b"<mark>" in client.get("/api/v1/catalog/search", {"q": "东野圭吾"}).content


def items(client: Client, query: str) -> list[dict]:
    return client.get("/api/v1/catalog/search", {"q": query}).json()["items"]


def test_a_title_changed_behind_the_services_back_shows_at_once(books, client: Client):
    """No service, no ``updated_at``, no new generation: the row is the key."""
    before = items(client, "东野圭吾")
    generation = counters.value(GENERATION_KEY)
    title = books["xianyiren"]
    Title.objects.filter(pk=title.pk).update(
        subtitle="新版", list_price_fen=4321, updated_at=title.updated_at
    )
    assert counters.value(GENERATION_KEY) == generation

    after = items(client, "东野圭吾")
    changed = next(i for i in after if i["id"] == title.pk)
    assert (changed["subtitle"], changed["list_price_fen"]) == ("新版", 4321)
    assert changed["highlights"]["subtitle"] == "新版"
    unchanged = [i for i in before if i["id"] != title.pk]
    assert [i for i in after if i["id"] != title.pk] == unchanged


def test_stock_is_read_on_every_request_while_the_item_comes_from_the_cache(books, client: Client):
    title = books["xianyiren"]
    assert next(i for i in items(client, "东野圭吾") if i["id"] == title.pk)["in_stock"] is False
    hits = ITEM_JSON.hits
    Offer.objects.filter(title=title).update(stock=2, is_active=True)

    found = next(i for i in items(client, "东野圭吾") if i["id"] == title.pk)
    assert found["in_stock"] is True
    assert ITEM_JSON.hits > hits  # the same JSON, its stock written in
    Offer.objects.filter(title=title).update(stock=0)
    assert next(i for i in items(client, "东野圭吾") if i["id"] == title.pk)["in_stock"] is False


def test_switched_off_with_the_result_cache(books, client: Client, settings):
    settings.XINYUE_SEARCH_CACHE_SECONDS = 0
    assert json.loads(client.get("/api/v1/catalog/search", {"q": "围城"}).content)["items"]
    items(client, "围城")
    assert len(ITEM_JSON) == 0


def test_a_category_the_cached_tree_does_not_know_is_read_and_not_kept(books, client: Client):
    """Made behind the services' back (no new generation): the tree kept for the search lacks
    it, so the item names it from the database and is not kept under a key without it."""
    from xinyue.catalog.models import Category

    title = books["xianyiren"]
    items(client, "东野圭吾")  # the tree is kept
    newcomer = Category.objects.create(name="新来的类目", position=99)
    Title.objects.filter(pk=title.pk).update(category=newcomer)
    size = len(ITEM_JSON)

    found = next(i for i in items(client, "东野圭吾") if i["id"] == title.pk)
    assert found["category"] == "新来的类目"
    assert len(ITEM_JSON) == size


def test_the_envelope_is_kept_by_what_it_shows_and_a_change_shows_at_once(books, client: Client):
    """``ENVELOPE_JSON``: a repeat renders no envelope; another total (a new title, the catalog's
    generation moved) is another key, rendered fresh and equal to the schema's answer."""
    from xinyue.catalog.api import ENVELOPE_JSON
    from xinyue.catalog.tests.portal_data import make_title

    ENVELOPE_JSON.clear()
    params = {"q": "围城"}
    first = client.get("/api/v1/catalog/search", params).content
    hits = ENVELOPE_JSON.hits
    assert client.get("/api/v1/catalog/search", params).content == first == reference(params)
    assert ENVELOPE_JSON.hits == hits + 1
    total = json.loads(first)["total"]

    make_title("围城（新版）", authors=["钱锺书"], publisher="人民文学出版社", year=2020)
    changed = client.get("/api/v1/catalog/search", params)
    assert changed.json()["total"] == total + 1
    assert changed.content == reference(params)
    assert ENVELOPE_JSON.hits == hits + 1  # rendered, not taken from the cache
    ENVELOPE_JSON.clear()
