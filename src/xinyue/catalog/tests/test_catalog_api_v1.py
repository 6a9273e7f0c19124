"""The catalog, bookshelf, notices and supplier-stock operations of API v1 (DESIGN §11)."""

from __future__ import annotations

import json

import pytest
from conftest import bearer_client

from xinyue.accounts.services import create_api_key
from xinyue.catalog.models import Offer, Pick, ShelfEntry
from xinyue.catalog.services import curation
from xinyue.catalog.tests.portal_data import library_shelf, new_reader, reader_token, supplier
from xinyue.core.actors import SYSTEM
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events


@pytest.fixture
def books(db, categories):
    return library_shelf()


@pytest.fixture
def reader(db):
    return new_reader()


@pytest.fixture
def reader_client(reader):
    return bearer_client(reader_token(reader))


def events(*fields: str) -> list[tuple]:
    flush_events()
    return list(Event.objects.order_by("id").values_list(*fields))


# --- public reads -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_needs_no_credentials_and_answers_in_the_documented_shape(client, books):
    response = client.get("/api/v1/catalog/search", {"q": "东野圭吾", "sort": "newest"})

    assert response.status_code == 200
    body = response.json()
    xianyiren, baiyexing = books["xianyiren"], books["baiyexing"]
    assert {k: body[k] for k in ("total", "page", "page_size", "normalized_query")} == {
        "total": 2,
        "page": 1,
        "page_size": 20,
        "normalized_query": "东野圭吾",
    }
    assert body["total_is_exact"] is True
    assert body["facets_are_exact"] is True
    first = body["items"][0]
    assert {k: v for k, v in first.items() if k != "highlights"} == {
        "id": xianyiren.pk,
        "isbn": xianyiren.isbn13,
        "title": "嫌疑人X的献身",
        "subtitle": "",
        "authors": ["东野圭吾", "刘子倩"],
        "publisher": "南海出版公司",
        "year": 2014,
        "category": "侦探/悬疑/推理",
        "list_price_fen": 3500,
        "in_stock": False,
    }
    assert first["highlights"]["authors"] == "<mark>东野圭吾</mark>；刘子倩"
    assert [i["id"] for i in body["items"]] == [xianyiren.pk, baiyexing.pk]
    assert body["items"][1]["in_stock"] is True
    assert body["facets"] == {
        "category": [{"value": "侦探/悬疑/推理", "count": 2}],
        "year": [{"value": 2014, "count": 1}, {"value": 2013, "count": 1}],
        "publisher": [{"value": "南海出版公司", "count": 2}],
    }
    assert events("type", "channel", "query", "result_count", "reader_id") == [
        ("search", "api", "东野圭吾", 2, None)
    ]


@pytest.mark.django_db
def test_search_filters_and_advanced_fields(client, books):
    def ids(**params):
        return [i["id"] for i in client.get("/api/v1/catalog/search", params).json()["items"]]

    assert ids(q="东野圭吾", in_stock="true") == [books["baiyexing"].pk]
    assert ids(q="东野圭吾", year_from=2014, year_to=2014) == [books["xianyiren"].pk]
    assert ids(author="东野圭吾", publisher="南海出版公司", sort="newest") == [
        books["xianyiren"].pk,
        books["baiyexing"].pk,
    ]
    assert ids(q="小说", category="文学") == [books["weicheng"].pk]
    assert ids(isbn=books["python"].isbn13) == [books["python"].pk]
    page = client.get("/api/v1/catalog/search", {"q": "东野圭吾", "page_size": 1, "page": 2})
    assert (page.json()["total"], len(page.json()["items"]), page.json()["page"]) == (2, 1, 2)


@pytest.mark.django_db
def test_a_readers_searches_are_theirs(reader_client, reader, books):
    reader_client.get("/api/v1/catalog/search", {"q": "围城"})
    assert events("type", "reader_id", "result_count") == [("search", reader.pk, 1)]


@pytest.mark.django_db
@pytest.mark.parametrize("query", ['"', "AND OR NOT", "😀" * 50, "x" * 1000, "NEAR(a b)"])
def test_hostile_queries_give_a_page(client, books, query):
    response = client.get("/api/v1/catalog/search", {"q": query})
    assert response.status_code == 200
    assert response.json()["page"] == 1


@pytest.mark.django_db
def test_out_of_range_parameters_name_the_field(client, books):
    response = client.get("/api/v1/catalog/search", {"q": "x", "page_size": 1000})
    assert response.status_code == 422
    assert list(response.json()["detail"]["fields"]) == ["page_size"]
    assert client.get("/api/v1/catalog/search", {"sort": "cheapest"}).status_code == 422


@pytest.mark.django_db
def test_a_title_with_offers_and_a_recorded_click(client, books):
    supplier("hzbooks", "杭州书商")
    Offer.objects.create(supplier=supplier("hzbooks"), title=books["python"], stock=3, price_fen=1)
    title = books["python"]
    response = client.get(f"/api/v1/catalog/titles/{title.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == "Python编程"
    assert body["subtitle"] == "从入门到实践"
    assert body["category_path"] == "计算机与互联网 › 编程语言"
    assert body["total_stock"] == 15
    assert body["offers"] == [
        {"supplier_code": "zjxinhua", "supplier_name": "浙江省新华书店", "stock": 12},
        {"supplier_code": "hzbooks", "supplier_name": "杭州书商", "stock": 3},
    ]
    assert body["in_stock"] is True
    assert events("type", "title_id", "channel") == [("click", title.pk, "api")]

    missing = client.get("/api/v1/catalog/titles/999999")
    assert missing.status_code == 404
    assert missing.json()["code"] == "title_not_found"


@pytest.mark.django_db
def test_categories_picks_and_notices(client, books, zhejiang):
    tree = client.get("/api/v1/catalog/categories").json()
    assert [c["name"] for c in tree[:3]] == ["文学", "计算机与互联网", "国学/古籍"]
    literature = tree[0]
    assert literature["show_on_home"] is True
    assert "侦探/悬疑/推理" in [c["name"] for c in literature["children"]]

    curation.add_pick(actor=SYSTEM, kind=Pick.Kind.EDITOR, title_id=books["weicheng"].pk)
    curation.add_pick(actor=SYSTEM, kind=Pick.Kind.NEW, title_id=books["python"].pk)
    picks = client.get("/api/v1/catalog/picks").json()
    assert [(p["kind"], p["position"], p["title"]["title"]) for p in picks] == [
        ("editor", 0, "围城"),
        ("new", 0, "Python编程"),
    ]
    assert len(client.get("/api/v1/catalog/picks", {"kind": "new"}).json()) == 1

    curation.create_notice(actor=SYSTEM, title="全省通知")
    curation.create_notice(actor=SYSTEM, title="宁波通知", city_code="330200")
    assert [n["title"] for n in client.get("/api/v1/notices").json()] == ["全省通知", "宁波通知"]
    ningbo = client.get("/api/v1/notices", {"city_code": "330200"}).json()
    assert [(n["title"], n["city_code"]) for n in ningbo] == [
        ("宁波通知", "330200"),
        ("全省通知", ""),
    ]
    assert [n["title"] for n in client.get("/api/v1/notices", {"city_code": "330100"}).json()] == [
        "全省通知"
    ]


# --- bookshelf ------------------------------------------------------------------------------


def post_json(client, path, body):
    return client.post(path, data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_a_reader_keeps_a_bookshelf(reader_client, reader, books):
    assert reader_client.get("/api/v1/bookshelf").json() == {"count": 0, "items": []}

    added = post_json(reader_client, "/api/v1/bookshelf", {"title_id": books["weicheng"].pk})
    assert added.status_code == 201
    again = post_json(reader_client, "/api/v1/bookshelf", {"title_id": books["weicheng"].pk})
    assert again.status_code == 200
    post_json(reader_client, "/api/v1/bookshelf", {"title_id": books["python"].pk})

    shelf = reader_client.get("/api/v1/bookshelf").json()
    assert shelf["count"] == 2
    assert [(i["title_id"], i["title"]["title"]) for i in shelf["items"]] == [
        (books["python"].pk, "Python编程"),
        (books["weicheng"].pk, "围城"),
    ]
    assert reader_client.delete(f"/api/v1/bookshelf/{books['weicheng'].pk}").status_code == 204
    assert reader_client.delete(f"/api/v1/bookshelf/{books['weicheng'].pk}").status_code == 204
    assert list(ShelfEntry.objects.filter(reader=reader).values_list("title_id", flat=True)) == [
        books["python"].pk
    ]


@pytest.mark.django_db
def test_bookshelf_refusals_change_nothing(reader_client, client, hz_key_client, books):
    missing = post_json(reader_client, "/api/v1/bookshelf", {"title_id": 999999})
    assert missing.status_code == 404
    assert missing.json()["code"] == "title_not_found"
    bad = post_json(reader_client, "/api/v1/bookshelf", {"title_id": "abc"})
    assert bad.status_code == 422
    assert list(bad.json()["detail"]["fields"]) == ["title_id"]
    staff = post_json(hz_key_client, "/api/v1/bookshelf", {"title_id": books["weicheng"].pk})
    assert staff.status_code == 403
    assert client.get("/api/v1/bookshelf").status_code == 401
    assert ShelfEntry.objects.count() == 0


# --- supplier stock ---------------------------------------------------------------------------


def supplier_client(code: str) -> object:
    _key, token = create_api_key(
        actor=SYSTEM, name=f"{code} ERP", scope="supplier", supplier=supplier(code)
    )
    return bearer_client(token)


@pytest.mark.django_db
def test_a_supplier_updates_its_stock_by_isbn(books):
    client = supplier_client("zjxinhua")
    isbn = books["xianyiren"].isbn13
    response = post_json(
        client, "/api/v1/supplier/stock", {"isbn": f"{isbn[:3]}-{isbn[3:]}", "stock": 7}
    )
    assert response.status_code == 200
    assert response.json() == {
        "supplier_code": "zjxinhua",
        "isbn": isbn,
        "title_id": books["xianyiren"].pk,
        "stock": 7,
    }
    assert Offer.objects.get(title=books["xianyiren"]).stock == 7


@pytest.mark.django_db
def test_stock_refusals(books, hz_key_client, operator_user, logged_in):
    isbn = books["weicheng"].isbn13
    other = supplier_client("hzbooks")
    assert (
        post_json(
            other, "/api/v1/supplier/stock", {"isbn": isbn, "stock": 1, "supplier_code": "zjxinhua"}
        ).status_code
        == 403
    )
    assert (
        post_json(hz_key_client, "/api/v1/supplier/stock", {"isbn": isbn, "stock": 1}).status_code
        == 403
    )
    negative = post_json(other, "/api/v1/supplier/stock", {"isbn": isbn, "stock": -1})
    assert negative.status_code == 422
    assert list(negative.json()["detail"]["fields"]) == ["stock"]
    _key, token = create_api_key(actor=SYSTEM, name="ops", scope="platform")
    operator = bearer_client(token)
    unnamed = post_json(operator, "/api/v1/supplier/stock", {"isbn": isbn, "stock": 1})
    assert unnamed.status_code == 422
    assert unnamed.json()["detail"]["fields"] == {"supplier_code": "请指明书商"}
    assert Offer.objects.get(title=books["weicheng"]).stock == 5
    named = post_json(
        operator, "/api/v1/supplier/stock", {"isbn": isbn, "stock": 9, "supplier_code": "zjxinhua"}
    )
    assert named.status_code == 200
    assert Offer.objects.get(title=books["weicheng"]).stock == 9
