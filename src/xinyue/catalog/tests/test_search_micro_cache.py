"""Anonymous searches are answered from a per-process micro-cache for
``XINYUE_SEARCH_CACHE_SECONDS``: a stock change shows once that time has passed, every search is
still recorded, and what is per visitor (the shelf) never travels from one visitor to another."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from xinyue.catalog.services.offers import update_stock
from xinyue.catalog.tests.portal_data import library_shelf, new_reader
from xinyue.catalog.web import SEARCHES
from xinyue.core.actors import SYSTEM
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events
from xinyue.suppliers.models import Supplier

TTL = 2.0


class Clock:
    """The cache's clock, moved by hand: the test says when the time to live has passed."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(SEARCHES, "clock", fake)
    return fake


@pytest.fixture
def books(db, categories, settings, clock):
    settings.XINYUE_SEARCH_CACHE_SECONDS = TTL
    return library_shelf()


def api_in_stock(client: Client, query: str) -> dict[str, bool]:
    body = client.get("/api/v1/catalog/search", {"q": query}).json()
    return {item["title"]: item["in_stock"] for item in body["items"]}


def page_stock(client: Client) -> list[str]:
    page = client.get("/search/", {"q": "东野圭吾"}).content.decode()
    return re.findall(r'<span class="stock \w+">([^<]+)</span>', page)


def restock_xianyiren(books) -> None:
    update_stock(
        actor=SYSTEM,
        supplier=Supplier.objects.get(code="zjxinhua"),
        isbn=books["xianyiren"].isbn13,
        stock=4,
    )


def test_a_stock_change_shows_after_the_time_to_live_and_not_before(books, client, clock):
    assert api_in_stock(client, "东野圭吾") == {"嫌疑人X的献身": False, "白夜行": True}
    assert page_stock(client) == ["有货", "暂无库存"]  # 白夜行, 嫌疑人X的献身
    restock_xianyiren(books)

    assert api_in_stock(client, "东野圭吾")["嫌疑人X的献身"] is False  # the cached answers
    assert page_stock(client) == ["有货", "暂无库存"]  # 白夜行, 嫌疑人X的献身
    assert (SEARCHES.hits, SEARCHES.misses) == (2, 2)

    clock.now += TTL - 0.01
    assert api_in_stock(client, "东野圭吾")["嫌疑人X的献身"] is False
    clock.now += 0.01
    assert api_in_stock(client, "东野圭吾")["嫌疑人X的献身"] is True
    assert page_stock(client) == ["有货", "有货"]


def test_a_cached_answer_is_still_a_recorded_search_per_searcher(books, client):
    for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        client.get("/api/v1/catalog/search", {"q": "东野圭吾"}, REMOTE_ADDR=address)
    flush_events()
    assert SEARCHES.hits == 2
    assert Event.objects.filter(type="search", query="东野圭吾").count() == 2  # two searchers


def test_switched_off_at_zero(books, client, settings):
    settings.XINYUE_SEARCH_CACHE_SECONDS = 0
    api_in_stock(client, "东野圭吾")
    restock_xianyiren(books)
    assert api_in_stock(client, "东野圭吾")["嫌疑人X的献身"] is True
    assert (SEARCHES.hits, SEARCHES.misses) == (0, 0)


def on_shelf_buttons(client: Client) -> int:
    return client.get("/search/", {"q": "东野圭吾"}).content.decode().count("已在书架")


def test_two_visitors_never_see_each_others_shelf(books):
    first, second = Client(), Client()
    first.post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    assert on_shelf_buttons(first) == 1
    assert on_shelf_buttons(second) == 0  # same query, answered from the cache
    second.post("/shelf/add/", {"title_id": books["xianyiren"].pk})
    second.post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    assert on_shelf_buttons(second) == 2
    assert on_shelf_buttons(first) == 1
    assert SEARCHES.hits >= 3


def test_two_readers_never_see_each_others_shelf(books):
    alice, bob = Client(), Client()
    alice_reader, bob_reader = new_reader(), new_reader()
    alice.force_login(alice_reader.user)
    bob.force_login(bob_reader.user)
    alice.post("/shelf/add/", {"title_id": books["xianyiren"].pk})
    Client().get("/search/", {"q": "东野圭吾"})  # an anonymous visitor fills the cache
    assert on_shelf_buttons(alice) == 1
    assert on_shelf_buttons(bob) == 0
    # Readers are answered fresh: their searches never read or fill the cache.
    assert (SEARCHES.hits, SEARCHES.misses) == (0, 1)
