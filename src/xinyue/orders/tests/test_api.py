"""The orders, supplier and loans operations over HTTP (DESIGN §11): a reader token places and
follows an order, a supplier key ships it, the loans appear; errors in the one JSON shape."""

from __future__ import annotations

import pytest
from django.test import Client

from xinyue.accounts.services import create_api_key
from xinyue.catalog.models import Offer, ShelfEntry
from xinyue.core.actors import SYSTEM, Channel
from xinyue.credit.models import CreditOrder
from xinyue.libraries.models import Library
from xinyue.orders.models import Order, ReaderQuota
from xinyue.orders.tests.conftest import ADDRESS, committed, make_reader
from xinyue.readers.services.tokens import issue_reader_token
from xinyue.suppliers.models import Supplier

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader_client(reader) -> Client:
    _row, token = issue_reader_token(reader=reader, channel=Channel.WECHAT)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def supplier_client(supplier) -> Client:
    _key, token = create_api_key(actor=SYSTEM, name="新华", scope="supplier", supplier=supplier)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post(client: Client, path: str, body: dict | None = None, **headers: str):
    with committed():  # placing's commit enqueues the credit order's task
        return client.post(path, body or {}, content_type="application/json", headers=headers)


def test_place_ship_deliver_over_http(reader_client, supplier_client, reader, titles, budget):
    Library.objects.filter(code="330000").update(is_operator=True)
    body = {"title_ids": [titles[0].pk, titles[1].pk], "address": ADDRESS}
    response = post(reader_client, "/api/v1/orders", body, **{"Idempotency-Key": "abc-1"})
    assert response.status_code == 201, response.content
    first = response.json()
    # The first answer is the placed order; the credit order is opened by a task on the commit.
    assert (first["status"], first["credit_status"], first["confirm_url"]) == (
        "placed",
        "opening",
        "",
    )
    assert [step["status"] for step in first["timeline"]] == ["placed"]
    assert [line["title"] for line in first["lines"]] == [titles[0].title, titles[1].title]
    order = reader_client.get(f"/api/v1/orders/{first['number']}").json()
    assert (order["status"], order["credit_status"]) == ("confirmed", "open")
    assert order["channel"] == "wechat"
    assert order["postage"] == {"payer": "platform", "fen": 0}
    assert order["phone"] == "138****5678"
    assert [line["status"] for line in order["lines"]] == ["pending", "pending"]
    assert [line["id"] for line in order["lines"]] == [line["id"] for line in first["lines"]]
    assert [step["status"] for step in order["timeline"]] == ["placed", "confirmed"]
    assert CreditOrder.objects.get().reference == f"order:{order['number']}"
    replay = post(reader_client, "/api/v1/orders", body, **{"Idempotency-Key": "abc-1"})
    assert replay.status_code == 201
    assert replay.json() == first  # the idempotency key answers with the first answer
    assert Order.objects.count() == 1
    assert CreditOrder.objects.count() == 1  # the replay opened nothing

    number = order["number"]
    listed = supplier_client.get("/api/v1/supplier/orders?status=confirmed").json()
    assert [o["number"] for o in listed["items"]] == [number]
    lines = [
        {"line_id": line["id"], "barcode": f"XY-{i:07d}"} for i, line in enumerate(order["lines"])
    ]
    shipped = post(
        supplier_client,
        f"/api/v1/supplier/orders/{number}/shipments",
        {"lines": lines, "carrier": "顺丰", "tracking_number": "SF1234567890"},
    )
    assert shipped.status_code == 201, shipped.content
    assert shipped.json()["status"] == "shipped"
    assert {line["tracking_number"] for line in shipped.json()["lines"]} == {"SF1234567890"}
    done = post(supplier_client, f"/api/v1/supplier/orders/{number}/delivered")
    assert done.json()["status"] == "delivered"
    receipt = post(reader_client, f"/api/v1/orders/{number}/receipt")
    assert receipt.json()["received_at"] is not None
    loans = reader_client.get("/api/v1/loans").json()
    assert sorted((x["barcode"], x["status"], x["order_number"]) for x in loans["items"]) == [
        ("XY-0000000", "on_loan", number),
        ("XY-0000001", "on_loan", number),
    ]
    assert all(x["due_on"] for x in loans["items"])


def test_refusals_come_in_the_error_shape_and_change_nothing(reader_client, reader, titles, budget):
    outside = {**ADDRESS, "district_code": "310104"}
    response = post(
        reader_client, "/api/v1/orders", {"title_ids": [titles[0].pk], "address": outside}
    )
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"]["fields"] == {
        "address.district_code": "只能配送到浙江省内的地址"
    }
    Offer.objects.filter(title=titles[0]).update(stock=0)
    response = post(
        reader_client, "/api/v1/orders", {"title_ids": [titles[0].pk], "address": ADDRESS}
    )
    assert response.status_code == 409
    assert response.json()["code"] == "title_unavailable"
    assert Order.objects.count() == 0
    assert not ReaderQuota.objects.filter(open_volumes__gt=0).exists()


def test_cancel_and_who_may_see_an_order(reader_client, supplier_client, reader, titles, budget):
    response = post(
        reader_client, "/api/v1/orders", {"title_ids": [titles[0].pk], "address": ADDRESS}
    )
    number = response.json()["number"]
    other = Supplier.objects.create(code="other", name="别家书店")
    _key, token = create_api_key(actor=SYSTEM, name="别家", scope="supplier", supplier=other)
    stranger = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert stranger.get(f"/api/v1/orders/{number}").status_code == 404
    assert post(stranger, f"/api/v1/supplier/orders/{number}/delivered").status_code == 404
    assert Client().get("/api/v1/orders").status_code == 401
    cancelled = post(reader_client, f"/api/v1/orders/{number}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    again = post(reader_client, f"/api/v1/orders/{number}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "order_state")
    assert Offer.objects.get(title=titles[0]).stock == 5


def test_the_operations_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/orders",
        "/api/v1/orders/{number}",
        "/api/v1/orders/{number}/cancel",
        "/api/v1/orders/{number}/receipt",
        "/api/v1/supplier/orders",
        "/api/v1/supplier/orders/{number}/shipments",
        "/api/v1/supplier/orders/{number}/delivered",
        "/api/v1/loans",
    ):
        assert path in paths, path


def test_an_api_order_takes_exactly_its_titles_off_the_shelf(reader_client, reader, titles, budget):
    """The shelf rule is the placing service's, so an order over the API (no page involved)
    leaves the reader's shelf without the ordered titles and with every other one."""
    other = make_reader(2)
    ShelfEntry.objects.bulk_create(
        [ShelfEntry(reader=reader, title=t) for t in titles[:4]]
        + [ShelfEntry(reader=other, title=t) for t in titles[:2]]
    )
    body = {"title_ids": [titles[0].pk, titles[2].pk, titles[4].pk], "address": ADDRESS}
    key = {"Idempotency-Key": "shelf-order-1"}
    response = post(reader_client, "/api/v1/orders", body, **key)
    assert response.status_code == 201, response.json()
    left = [(reader.pk, titles[1].pk), (reader.pk, titles[3].pk)]
    others = [(other.pk, titles[0].pk), (other.pk, titles[1].pk)]
    assert sorted(ShelfEntry.objects.values_list("reader_id", "title_id")) == sorted(left + others)
    # The same submission again (idempotency key) is the same order and changes nothing.
    ShelfEntry.objects.create(reader=reader, title=titles[0])
    again = post(reader_client, "/api/v1/orders", body, **key)
    assert (again.status_code, again.json()["number"]) == (201, response.json()["number"])
    assert ShelfEntry.objects.filter(reader=reader, title=titles[0]).exists()
