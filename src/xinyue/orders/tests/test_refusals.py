"""Each refusal of ordering over the API: its code and words, and that nothing changed — stock,
quota, the budget (slots and ledger), order rows and their events, messages, webhooks, the
wait-list, the audit log. The provider refusing the credit order is the sandbox's own decision,
asked for through its control endpoint (never by patching our code)."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import allow_loopback
from django.conf import settings
from django.db.models import Sum
from django.test import Client

from xinyue.accounts.services import create_api_key
from xinyue.catalog.models import Offer, ShelfEntry, Title
from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditAuthorization, CreditOrder
from xinyue.credit.providers import http
from xinyue.libraries.models import Library, WebhookDelivery
from xinyue.libraries.services import subscribe_webhook
from xinyue.orders import services
from xinyue.orders.models import (
    BudgetSlot,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    ReaderQuota,
    WaitListEntry,
)
from xinyue.orders.selectors import budget_summary, ledger_balances
from xinyue.orders.tests.conftest import ADDRESS, committed
from xinyue.readers.models import Message
from xinyue.readers.services.tokens import issue_reader_token
from xinyue.suppliers.models import SupplierWebhookDelivery
from xinyue.suppliers.services import allow_supplier_networks, subscribe_supplier_webhook

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "orders": list(Order.objects.values_list("number", "status")),
        "lines": list(OrderLine.objects.values_list("pk", "status")),
        "events": OrderEvent.objects.count(),
        "ledger": list(LedgerEntry.objects.values_list("slot", "kind", "amount_fen")),
        "slots": list(
            BudgetSlot.objects.values_list("slot", "available_fen", "committed_fen", "spent_fen")
        ),
        "stock": list(Offer.objects.order_by("pk").values_list("pk", "stock")),
        "quota": list(  # a reader without a row holds nothing, like a row at 0
            ReaderQuota.objects.filter(open_volumes__gt=0).values_list("reader_id", "open_volumes")
        ),
        "credit": CreditOrder.objects.count(),
        "messages": Message.objects.count(),
        "library_webhooks": WebhookDelivery.objects.count(),
        "supplier_webhooks": SupplierWebhookDelivery.objects.count(),
        "wait_list": WaitListEntry.objects.count(),
        "audit": AuditEntry.objects.count(),
        "shelf": sorted(ShelfEntry.objects.values_list("reader_id", "title_id")),
    }


@pytest.fixture
def api(reader, titles, budget, supplier, zhejiang) -> Client:
    """The reader's token; the operator library and the supplier subscribe to webhooks, so a
    refusal that published anything would show."""
    operator = Library.objects.get(code="330000")
    Library.objects.filter(pk=operator.pk).update(is_operator=True)
    subscribe_webhook(
        actor=SYSTEM, library=allow_loopback(operator), url="http://127.0.0.1:18401/hooks"
    )
    allow_supplier_networks(actor=SYSTEM, supplier=supplier, networks=["127.0.0.0/8"])
    supplier.refresh_from_db()
    subscribe_supplier_webhook(actor=SYSTEM, supplier=supplier, url="http://127.0.0.1:18401/s")
    # Every title on the reader's shelf: a refusal must leave it as it was.
    ShelfEntry.objects.bulk_create([ShelfEntry(reader=reader, title=t) for t in titles])
    _row, token = issue_reader_token(reader=reader, channel=Channel.WECHAT)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def order(api: Client, titles, **body):
    payload = {"title_ids": [t.pk for t in titles], "address": ADDRESS, **body}
    return api.post("/api/v1/orders", payload, content_type="application/json")


def refused(api, titles, status: int, code: str, **body) -> dict:
    before = snapshot()
    response = order(api, titles, **body)
    assert (response.status_code, response.json()["code"]) == (status, code), response.json()
    assert snapshot() == before
    return response.json()


def test_an_address_outside_the_province_is_a_field_error(api, titles):
    outside = {**ADDRESS, "district_code": "310104"}  # 上海市徐汇区
    body = refused(api, titles[:1], 422, "invalid", address=outside)
    assert body["detail"]["fields"] == {"address.district_code": "只能配送到浙江省内的地址"}


def test_the_quota_refusal_says_how_many_remain(api, titles):
    services.set_rules(actor=SYSTEM, platform_quota=4, max_volumes_per_order=3)
    assert order(api, titles[:3]).status_code == 201
    body = refused(api, titles[3:5], 409, "quota_exceeded")
    assert body["message"] == "信阅借书最多同时在借 4 册，您还可以再借 1 册"
    assert body["detail"] == {"quota": 4, "open_volumes": 3, "remaining": 1}


def test_a_title_no_longer_offered(api, titles):
    Title.objects.filter(pk=titles[0].pk).update(is_active=False)
    body = refused(api, titles[:1], 409, "title_unavailable")
    assert (body["message"], body["detail"]) == (
        "该书已下架",
        {"title_id": titles[0].pk, "reason": "withdrawn"},
    )
    Offer.objects.filter(title=titles[1]).update(is_active=False)  # the supplier stopped
    body = refused(api, titles[1:2], 409, "title_unavailable")
    assert body["message"] == f"《{titles[1].title}》暂时无货，可加入等候名单"
    assert body["detail"]["reason"] == "out_of_stock"


def test_a_duplicate(api, titles):
    assert order(api, titles[:1]).status_code == 201
    body = refused(api, titles[:1], 409, "duplicate_title")
    assert body["message"] == f"《{titles[0].title}》您正在借阅或 90 天内已订购过"
    assert body["detail"] == {"title_id": titles[0].pk, "reason": "recently_ordered"}


def test_expired_admittance(api, reader, titles):
    CreditAuthorization.objects.filter(reader=reader).update(
        expires_at=clock.now() - dt.timedelta(minutes=1)
    )
    body = refused(api, titles[:1], 409, "not_admitted")
    assert body["message"] == "信用准入已失效，请重新完成信用授权后再下单"
    assert body["detail"] == {"reason": "expired"}


def test_budget_exhausted(api, titles):
    BudgetSlot.objects.update(available_fen=1000)  # 4 slots: 4000 fen, short of 3100 + 3200
    body = refused(api, titles[:2], 409, "budget_exhausted")
    assert body["message"] == "本期购书经费已用完，请下期再来"
    assert body["detail"] == {"amount_fen": 6300}


def test_the_provider_refusing_the_credit_order(api, titles):
    """The sandbox's risk rule refuses a rent order under 550: lower the test user's score
    through the sandbox's control endpoint (HTTP, reached in process as in embedded mode).
    Placing answers at once (the order placed, its credit order opening); the task that opens
    the credit order runs on the commit, the provider refuses, and the order is cancelled with
    the reason: the net change to stock, quota, budget and the ledger is nothing."""
    _key, token = create_api_key(actor=SYSTEM, name="sandbox control", scope="platform")
    control = f"{settings.PUBLIC_BASE_URL}/sandbox/zhima/control/users"
    auth = {"Authorization": f"Bearer {token}"}
    (user,) = http.client().get(control, headers=auth, timeout=10).json()["users"]
    answer = http.client().post(
        control, json={"login": user["login"], "score": 500}, headers=auth, timeout=10
    )
    assert answer.status_code == 201, answer.text
    before = snapshot()
    with committed():
        response = order(api, titles[:2])
    body = response.json()
    assert response.status_code == 201, body
    assert (body["status"], body["credit_status"], body["reason"]) == ("placed", "opening", "")
    after = snapshot()
    for key in ("stock", "slots", "quota", "wait_list", "shelf"):
        assert after[key] == before[key], key
    (refused_order,) = Order.objects.exclude(number__in=[n for n, _s in before["orders"]])
    assert refused_order.number == body["number"]
    assert (refused_order.status, refused_order.status_reason) == ("cancelled", "credit:rejected")
    # The ledger: the commitment and its release, to the fen; the period's balance is unchanged.
    held = (
        LedgerEntry.objects.filter(order=refused_order).values("kind").annotate(s=Sum("amount_fen"))
    )
    assert {row["kind"]: row["s"] for row in held} == {"commitment": 6300, "release": 6300}
    period = refused_order.budget_period
    assert ledger_balances(period=period) == budget_summary(period=period)
    assert ledger_balances(period=period)["available_fen"] == sum(
        available for _slot, available, _c, _s in before["slots"]
    )
    assert set(refused_order.lines.values_list("status", flat=True)) == {"cancelled"}
    credit = CreditOrder.objects.get()
    assert (credit.reference, credit.state) == (f"order:{refused_order.number}", "rejected")
    # The reader is told (in-app), the systems hear both steps, and the API shows the reason.
    assert list(
        Message.objects.filter(kind__startswith="order.")
        .order_by("id")
        .values_list("kind", flat=True)
    ) == ["order.placed", "order.cancelled"]
    assert list(WebhookDelivery.objects.order_by("id").values_list("event_type", flat=True)) == [
        "order.placed",
        "order.cancelled",
    ]
    assert Message.objects.get(kind="order.cancelled").body == "原因：信用服务机构未通过本次借阅。"
    shown = api.get(f"/api/v1/orders/{body['number']}").json()
    assert (shown["status"], shown["credit_status"], shown["reason"], shown["reason_text"]) == (
        "cancelled",
        "refused",
        "credit:rejected",
        "信用服务机构未通过本次借阅",
    )


def test_a_provider_refusal_puts_the_titles_back_on_the_shelf(api, reader, titles):
    """Placing took the two titles off the shelf in its transaction; the provider's refusal (the
    task, after the commit) cancels the order and puts exactly those two back — once, with an
    audit row naming the order — while the titles that stayed on the shelf are untouched."""
    _key, token = create_api_key(actor=SYSTEM, name="sandbox control", scope="platform")
    control = f"{settings.PUBLIC_BASE_URL}/sandbox/zhima/control/users"
    auth = {"Authorization": f"Bearer {token}"}
    (user,) = http.client().get(control, headers=auth, timeout=10).json()["users"]
    http.client().post(
        control, json={"login": user["login"], "score": 500}, headers=auth, timeout=10
    )
    ShelfEntry.objects.filter(title__in=titles[3:]).delete()
    kept_since = dict(ShelfEntry.objects.values_list("title_id", "added_at"))
    response = order(api, titles[:2])  # no commit hooks: the placed order, its task not yet run
    assert response.status_code == 201, response.json()
    assert sorted(ShelfEntry.objects.values_list("title_id", flat=True)) == [titles[2].pk]
    number = response.json()["number"]
    services.open_order_credit(order_id=Order.objects.get(number=number).pk)
    assert Order.objects.get(number=number).status == "cancelled"
    assert sorted(ShelfEntry.objects.values_list("reader_id", "title_id")) == [
        (reader.pk, t.pk) for t in titles[:3]
    ]
    assert ShelfEntry.objects.get(title=titles[2]).added_at == kept_since[titles[2].pk]
    put_back = AuditEntry.objects.get(action="shelf.added")
    assert put_back.detail == {"title_ids": [titles[0].pk, titles[1].pk], "order": number}
    # A second refusal of the same order changes nothing more (the order is closed).
    services.open_order_credit(order_id=Order.objects.get(number=number).pk)
    assert ShelfEntry.objects.count() == 3
    assert AuditEntry.objects.filter(action="shelf.added").count() == 1


def test_a_reader_cancelling_keeps_the_titles_off_the_shelf(api, reader, titles):
    with committed():
        response = order(api, titles[:2])
    number = response.json()["number"]
    shelf = sorted(ShelfEntry.objects.values_list("title_id", flat=True))
    assert shelf == [t.pk for t in titles[2:]]
    assert api.post(f"/api/v1/orders/{number}/cancel").status_code == 200
    assert sorted(ShelfEntry.objects.values_list("title_id", flat=True)) == shelf
