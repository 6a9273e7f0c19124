"""Every order step reaches the reader (an in-app message, plus the configured senders) and the
systems that subscribed: the operator library's and the order's supplier's (signed webhooks)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conftest import allow_loopback
from django.db import transaction
from django.test import Client

from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.testing import run_scheduled_tasks
from xinyue.core.webhooks import verify_webhook_signature
from xinyue.libraries.models import Library, WebhookDelivery
from xinyue.libraries.services import subscribe_webhook
from xinyue.orders import services
from xinyue.orders.models import Order
from xinyue.orders.tests.conftest import ADDRESS, placed
from xinyue.readers.models import Message, MessageDelivery
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.tokens import issue_reader_token
from xinyue.suppliers.models import SupplierWebhookDelivery
from xinyue.suppliers.services import allow_supplier_networks, subscribe_supplier_webhook

pytestmark = pytest.mark.django_db


def place(reader, titles, **extra):
    return placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.ALIPAY,
        address=ADDRESS,
        **extra,
    )


def kinds(reader) -> list[str]:
    return list(Message.objects.filter(reader=reader).order_by("id").values_list("kind", flat=True))


@pytest.fixture
def subscribers(zhejiang, supplier, loopback_server):
    """The operator library's system and the supplier's, both on loopback ports."""
    operator = Library.objects.get(code="330000")
    Library.objects.filter(pk=operator.pk).update(is_operator=True)
    library_system = loopback_server(path="/library-hooks")
    supplier_system = loopback_server(path="/supplier-hooks")
    subscribe_webhook(actor=SYSTEM, library=allow_loopback(operator), url=library_system.url)
    allow_supplier_networks(actor=SYSTEM, supplier=supplier, networks=["127.0.0.0/8"])
    supplier.refresh_from_db()
    subscription = subscribe_supplier_webhook(
        actor=SYSTEM, supplier=supplier, url=supplier_system.url
    )
    return library_system, supplier_system, subscription


STEPS = [
    "order.placed",
    "order.confirmed",
    "order.partially_shipped",
    "order.line_rejected",
    "order.shipped",
    "order.delivered",
    "order.received",
]


def test_every_step_tells_the_reader_the_library_and_the_supplier(
    reader, titles, budget, subscribers, django_capture_on_commit_callbacks
):
    library_system, supplier_system, subscription = subscribers
    with django_capture_on_commit_callbacks(execute=True):
        order = place(reader, titles[:3])
        lines = list(order.lines.order_by("id"))
        services.ship_lines(
            actor=SYSTEM,
            order=order,
            lines=[(lines[0].pk, "XY-0000001")],
            carrier="顺丰",
            tracking_number="SF1234567890",
        )
        services.reject_line(actor=SYSTEM, order=order, line_id=lines[1].pk, reason="出版社断货")
        services.ship_lines(
            actor=SYSTEM,
            order=order,
            lines=[(lines[2].pk, "XY-0000002")],
            carrier="中国邮政",
            tracking_number="EMS12345678",
        )
        services.mark_delivered(actor=SYSTEM, order=order)
        services.confirm_receipt(actor=reader_actor(reader), order=order)

    assert kinds(reader) == STEPS
    messages = {m.kind: m for m in Message.objects.filter(reader=reader)}
    assert messages["order.partially_shipped"].subject == f"订单 {order.number} 部分发货"
    assert messages["order.partially_shipped"].body == (
        "顺丰 运单号 SF1234567890；其余图书将另行发出。"
    )
    assert messages["order.line_rejected"].subject == (
        f"订单 {order.number} 中《{titles[1].title}》无法供货"
    )
    assert messages["order.line_rejected"].body == "原因：出版社断货。该书占用的额度已退回。"
    assert messages["order.shipped"].body == "中国邮政 运单号 EMS12345678。"
    assert all(m.read_at is None for m in messages.values())
    assert {m.link for m in messages.values()} == {f"/orders/{order.number}/"}  # opens the order

    library_types = list(WebhookDelivery.objects.order_by("id").values_list("event_type", "status"))
    assert library_types == [(step, "delivered") for step in STEPS]
    supplier_types = list(
        SupplierWebhookDelivery.objects.order_by("id").values_list("event_type", "status")
    )
    assert supplier_types == [(step, "delivered") for step in STEPS]

    # What the supplier's system received: signed with its own secret, its code, no PII.
    assert [r["headers"]["X-Xinyue-Event"] for r in supplier_system.requests] == STEPS
    first = supplier_system.requests[0]
    assert verify_webhook_signature(
        subscription.secret, first["body"], first["headers"]["X-Xinyue-Signature"]
    )
    payload = json.loads(first["body"])
    assert (payload["type"], payload["supplier_code"]) == ("order.placed", "xinhua")
    assert payload["data"] == {
        "number": order.number,
        "status": "placed",
        "channel": "alipay",
        "list_price_total_fen": 3100 + 3200 + 3300,
    }
    shipped = json.loads(supplier_system.requests[4]["body"])["data"]
    assert (shipped["carrier"], shipped["tracking_number"]) == ("中国邮政", "EMS12345678")
    assert "林晓雨" not in first["body"].decode()
    assert "13812345678" not in first["body"].decode()
    assert [r["headers"]["X-Xinyue-Event"] for r in library_system.requests] == STEPS


def test_cancel_expiry_and_awaiting_confirmation_are_steps_too(reader, titles, budget):
    order = place(reader, titles[:1])
    services.cancel_order(actor=reader_actor(reader), order=order)
    services.set_rules(actor=SYSTEM, credit_confirm_by_reader=True, confirm_minutes=15)
    waiting = place(reader, titles[1:2])
    assert waiting.status == "placed"
    services.expire_waiting_orders()  # inside the window: not told again
    Order.objects.filter(pk=waiting.pk).update(
        confirm_expires_at=waiting.confirm_expires_at - dt.timedelta(minutes=16)
    )
    services.expire_waiting_orders()
    assert kinds(reader) == [
        "order.placed",
        "order.confirmed",
        "order.cancelled",
        "order.placed",
        "order.awaiting_confirmation",
        "order.expired",
    ]
    cancelled, expired = (
        Message.objects.get(kind="order.cancelled"),
        Message.objects.get(kind="order.expired"),
    )
    assert cancelled.body == "原因：您取消了订单。"
    assert expired.body == "原因：未在时限内完成信用确认。"


def test_a_failing_sender_never_breaks_the_order_and_is_retried(
    reader, titles, budget, settings, loopback_server, django_capture_on_commit_callbacks
):
    """The SMS relay fails once: the order goes on, the message is in-app at once, and the
    text message arrives on the retry."""
    relay_calls: list[int] = []

    def relay(body: bytes, headers: dict[str, str]):
        relay_calls.append(1)
        return (503 if len(relay_calls) == 1 else 200), b"{}"

    server = loopback_server(relay, path="/sms")
    settings.XINYUE_MESSAGE_SENDERS = ["xinyue.readers.messaging.SmsMessageSender"]
    settings.XINYUE_SMS_SENDER = "xinyue.readers.sms.HttpSender"
    settings.XINYUE_SMS_HTTP_URL = server.url
    settings.XINYUE_SMS_HTTP_SECRET = "relay-secret"
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        order = services.place_order(  # the commit runs the messages and the credit order's task
            actor=reader_actor(reader),
            reader=reader,
            title_ids=[titles[0].pk],
            channel=Channel.ALIPAY,
            address=ADDRESS,
        )
    order.refresh_from_db()
    assert order.status == "confirmed"
    placed = MessageDelivery.objects.get(message__kind="order.placed")
    assert (placed.status, placed.attempts, placed.last_error) == (
        "pending",
        1,
        "SMS relay unreachable: HTTPError",
    )
    assert MessageDelivery.objects.get(message__kind="order.confirmed").status == "sent"
    with django_capture_on_commit_callbacks(execute=True):
        assert run_scheduled_tasks() == 1
    placed.refresh_from_db()
    assert (placed.status, placed.attempts) == ("sent", 2)
    texts = [json.loads(r["body"]) for r in server.requests]
    assert [t["phone"] for t in texts] == ["13800000001"] * 3
    assert texts[-1]["text"] == f"【信阅】订单 {order.number} 已提交"


def test_messages_page_and_api(reader, titles, budget, client):
    place(reader, titles[:1])  # placed + confirmed: two unread
    _row, token = issue_reader_token(reader=reader, channel=Channel.WECHAT)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    body = api.get("/api/v1/readers/me/messages").json()
    assert body["unread"] == 2
    assert [m["kind"] for m in body["items"]] == ["order.confirmed", "order.placed"]
    newest = body["items"][0]["id"]
    response = api.post(
        "/api/v1/readers/me/messages/read", {"ids": [newest]}, content_type="application/json"
    )
    assert response.json() == {"marked": 1, "unread": 1}
    response = api.post(
        "/api/v1/readers/me/messages/read", {"ids": [999999]}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (404, "message_not_found")
    # a body that is not an object is refused, not read as "mark them all"
    response = api.post(
        "/api/v1/readers/me/messages/read", [None, None], content_type="application/json"
    )
    assert response.status_code == 422
    assert Message.objects.filter(reader=reader, read_at__isnull=True).count() == 1

    client.force_login(reader.user)
    page = client.get("/account/messages/").content.decode()
    assert 'id="unread-count">1<' in page
    assert "订单" in page
    assert "已提交" in page
    response = client.post("/account/messages/", {})
    assert response.status_code == 302
    assert Message.objects.filter(reader=reader, read_at__isnull=True).count() == 0
    assert 'id="unread-count"' not in client.get("/account/messages/").content.decode()
