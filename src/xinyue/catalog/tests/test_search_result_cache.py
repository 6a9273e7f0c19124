"""The search result cache (``catalog.selectors.search.RESULTS``) keeps what a search found —
the page's title ids, the total, the facets — per normalised query, filters and page, while the
catalog generation stands. A title added or changed through the catalog's services shows in the
very next search; a stock level shows at once without any invalidation (the titles are read
fresh); what is per visitor (the shelf) never goes into an entry."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from xinyue.catalog.models import Category, Title
from xinyue.catalog.selectors.search import GENERATION, GENERATION_KEY, RESULTS, search_titles
from xinyue.catalog.services import curation
from xinyue.catalog.services.imports import import_catalog
from xinyue.catalog.services.offers import update_stock
from xinyue.catalog.tests.portal_data import library_shelf, new_reader, reader_token
from xinyue.core import counters
from xinyue.core.actors import SYSTEM
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events
from xinyue.suppliers.models import Supplier

HEADER = "isbn,title,authors,publisher,year,category,list_price,stock\n"


@pytest.fixture
def books(db, categories):
    return library_shelf()


def api_titles(client: Client, query: str, **params) -> list[tuple[str, bool]]:
    body = client.get("/api/v1/catalog/search", {"q": query, **params}).json()
    return [(item["title"], item["in_stock"]) for item in body["items"]]


def page_titles(client: Client, query: str) -> list[str]:
    page = client.get("/search/", {"q": query}).content.decode()
    ids = [int(i) for i in re.findall(r'<li class="book" id="title-(\d+)">', page)]
    names = dict(Title.objects.filter(pk__in=ids).values_list("pk", "title"))
    return [names[i] for i in ids]


def page_stock(client: Client, query: str) -> list[str]:
    page = client.get("/search/", {"q": query}).content.decode()
    return re.findall(r'<span class="stock \w+">([^<]+)</span>', page)


def import_rows(rows: str) -> None:
    result = import_catalog(
        actor=SYSTEM,
        supplier=Supplier.objects.get(code="zjxinhua"),
        file=(HEADER + rows).encode(),
        filename="books.csv",
    )
    assert result.rejected == []


def test_a_title_added_after_a_cached_search_is_in_the_next_one(books, client):
    assert api_titles(client, "东野圭吾") == [("白夜行", True), ("嫌疑人X的献身", False)]
    assert page_titles(client, "东野圭吾") == ["白夜行", "嫌疑人X的献身"]
    assert api_titles(client, "东野圭吾") == [("白夜行", True), ("嫌疑人X的献身", False)]
    assert RESULTS.hits == 2  # the page and the API share one entry: the same search

    import_rows("9787544291163,解忧杂货店,东野圭吾,南海出版公司,2014,侦探/悬疑/推理,39.50,3\n")

    assert ("解忧杂货店", True) in api_titles(client, "东野圭吾")
    assert "解忧杂货店" in page_titles(client, "东野圭吾")
    assert (RESULTS.hits, RESULTS.misses) == (3, 2)  # asked the engine again, once


def test_a_title_whose_words_changed_is_found_by_its_new_words_at_once(books, client):
    assert api_titles(client, "钱锺书") == [("围城", True)]
    assert api_titles(client, "杨绛") == []
    import_rows(
        f"{books['weicheng'].isbn13},围城,杨绛,人民文学出版社,1991,中国现当代小说,39.00,5\n"
    )
    assert api_titles(client, "杨绛") == [("围城", True)]
    assert api_titles(client, "钱锺书") == []


def test_a_stock_change_shows_at_once_without_a_new_generation(books, client):
    assert api_titles(client, "东野圭吾")[1] == ("嫌疑人X的献身", False)
    assert page_stock(client, "东野圭吾") == ["有货", "暂无库存"]
    before = counters.value(GENERATION_KEY)

    update_stock(
        actor=SYSTEM,
        supplier=Supplier.objects.get(code="zjxinhua"),
        isbn=books["xianyiren"].isbn13,
        stock=4,
    )

    assert counters.value(GENERATION_KEY) == before  # nothing was invalidated
    assert api_titles(client, "东野圭吾")[1] == ("嫌疑人X的献身", True)
    assert page_stock(client, "东野圭吾") == ["有货", "有货"]
    assert (RESULTS.hits, RESULTS.misses) == (3, 1)  # from the cache, with today's stock


def test_the_in_stock_filter_follows_stock_at_once(books, client):
    assert api_titles(client, "东野圭吾", in_stock="true") == [("白夜行", True)]
    update_stock(
        actor=SYSTEM,
        supplier=Supplier.objects.get(code="zjxinhua"),
        isbn=books["xianyiren"].isbn13,
        stock=4,
    )
    assert api_titles(client, "东野圭吾", in_stock="true") == [
        ("白夜行", True),
        ("嫌疑人X的献身", True),
    ]
    assert (RESULTS.hits, RESULTS.misses) == (0, 0)  # never kept: its titles follow stock


def test_another_process_s_change_is_seen_within_the_check_interval(
    books, client, settings, monkeypatch
):
    settings.XINYUE_SEARCH_GENERATION_CHECK_MS = 100
    now = [500.0]
    monkeypatch.setattr(GENERATION, "clock", lambda: now[0])
    assert api_titles(client, "围城") == [("围城", True)]
    # Another worker changed the catalog: here only the shared number moved.
    counters.hit(GENERATION_KEY, ttl_seconds=3600)
    Title.objects.filter(pk=books["weicheng"].pk).update(title="围城新版")
    now[0] += 0.09
    assert api_titles(client, "围城") == [("围城新版", True)]  # fresh row, cached ids
    assert RESULTS.hits == 1
    now[0] += 0.02
    api_titles(client, "围城")
    assert (RESULTS.hits, RESULTS.misses) == (1, 2)  # the new generation: asked the engine


def test_a_renamed_category_shows_in_the_next_search_without_asking_each_time(
    books, client, operator, django_assert_num_queries, monkeypatch
):
    def facet_names(**params) -> list[str]:
        body = client.get("/api/v1/catalog/search", {"q": "东野圭吾", **params}).json()
        return [f["value"] for f in body["facets"]["category"]]

    # The generation's clock stands still: however long the first search takes (it may load the
    # segmenter), the repeat falls inside the check interval. This process's own change below is
    # seen at once regardless (``GENERATION.forget``).
    monkeypatch.setattr(GENERATION, "clock", lambda: 500.0)
    assert facet_names() == ["侦探/悬疑/推理"]
    # A repeat within the check interval reads only the page's titles: neither the generation
    # nor the category tree asks anything.
    with django_assert_num_queries(1):
        search_titles(query="东野圭吾")

    curation.update_category(
        actor=operator, category=Category.objects.get(name="侦探/悬疑/推理"), name="推理小说"
    )

    assert facet_names() == ["推理小说"]
    body = client.get("/api/v1/catalog/search", {"q": "东野圭吾"}).json()
    assert {item["category"] for item in body["items"]} == {"推理小说"}
    assert facet_names(category="推理小说") == ["推理小说"]
    assert facet_names(category="侦探/悬疑/推理") == []
    page = client.get("/search/", {"q": "东野圭吾"}).content.decode()
    assert "推理小说" in page
    assert "侦探/悬疑/推理" not in page


def test_normalised_queries_share_an_entry_and_pages_do_not(books):
    search_titles(query="东野圭吾")
    search_titles(query="  ＰＹＴＨＯＮ  ")
    search_titles(query="python")
    search_titles(query="东野圭吾", page=2)
    assert (RESULTS.hits, RESULTS.misses) == (1, 3)
    assert search_titles(query="东野圭吾", cached=False).total == 2
    assert (RESULTS.hits, RESULTS.misses) == (1, 3)


def test_the_memory_bound_holds(books, settings):
    settings.XINYUE_SEARCH_CACHE_MB = 1
    limit = 1024 * 1024
    for page in range(1, 501):
        search_titles(query="东野圭吾", page=page, page_size=1)
    assert 0 < RESULTS.bytes <= limit
    assert len(RESULTS) == 500
    one_entry = RESULTS.bytes // len(RESULTS)
    for page in range(1, 501):
        search_titles(query="南海出版公司", page=page, page_size=1)
    assert RESULTS.bytes <= limit
    assert len(RESULTS) < 1000  # the least recently used went
    assert len(RESULTS) >= limit // (2 * one_entry)


def test_switched_off_at_zero(books, client, settings):
    settings.XINYUE_SEARCH_CACHE_SECONDS = 0
    api_titles(client, "东野圭吾")
    api_titles(client, "东野圭吾")
    assert (RESULTS.hits, RESULTS.misses, len(RESULTS)) == (0, 0, 0)


def test_a_cached_answer_is_still_a_recorded_search_per_searcher(books, client):
    for address in ("203.0.113.1", "203.0.113.1", "203.0.113.2"):
        client.get("/api/v1/catalog/search", {"q": "东野圭吾"}, REMOTE_ADDR=address)
    flush_events()
    assert RESULTS.hits == 2
    assert Event.objects.filter(type="search", query="东野圭吾").count() == 2  # two searchers


def on_shelf_buttons(client: Client) -> int:
    return client.get("/search/", {"q": "东野圭吾"}).content.decode().count("已在书架")


def test_visitors_and_readers_share_entries_but_never_each_others_shelf(books):
    visitor, alice, bob = Client(), Client(), Client()
    alice_reader, bob_reader = new_reader(), new_reader()
    alice.force_login(alice_reader.user)
    bob.force_login(bob_reader.user)
    visitor.post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    alice.post("/shelf/add/", {"title_id": books["xianyiren"].pk})
    alice.post("/shelf/add/", {"title_id": books["baiyexing"].pk})

    assert on_shelf_buttons(visitor) == 1  # fills the entry
    assert on_shelf_buttons(alice) == 2
    assert on_shelf_buttons(bob) == 0
    assert on_shelf_buttons(Client()) == 0
    assert (RESULTS.hits, RESULTS.misses) == (3, 1)
    # The API answer of a signed-in reader is byte for byte the anonymous one.
    token = reader_token(alice_reader)
    signed_in = Client().get(
        "/api/v1/catalog/search", {"q": "东野圭吾"}, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert signed_in.content == Client().get("/api/v1/catalog/search", {"q": "东野圭吾"}).content


def test_search_page_tails_carry_each_title_s_own_shelf_button(books):
    """The shelf buttons are rendered once per state per request and given each title's id."""
    visitor = Client()
    visitor.post("/shelf/add/", {"title_id": books["baiyexing"].pk})
    page = visitor.get("/search/", {"q": "东野圭吾"}).content.decode()
    items = re.findall(r'<li class="book" id="title-(\d+)">(.*?)</li>', page, re.S)
    forms = {
        int(pk): re.findall(
            r'<form method="post" action="([^"]+)".*?name="title_id" value="(\d+)"', body, re.S
        )
        for pk, body in items
    }
    assert forms == {
        books["baiyexing"].pk: [("/shelf/remove/", str(books["baiyexing"].pk))],
        books["xianyiren"].pk: [("/shelf/add/", str(books["xianyiren"].pk))],
    }
    assert page.count('<button class="on-shelf"') == 1
    assert page.count('<button class="add-shelf"') == 1
    assert page.count('name="next" value="/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE"') == 2
