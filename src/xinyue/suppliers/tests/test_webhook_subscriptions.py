"""A supplier subscribes its own system to its orders' events, through the API or its console
page: the secret is shown once, hostile URLs and unknown events are refused with the field named
and nothing saved, and no supplier can subscribe for another."""

from __future__ import annotations

import pytest
from django.test import Client

from xinyue.accounts.services import create_supplier_user
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.suppliers.models import SupplierWebhookSubscription
from xinyue.suppliers.tests.factories import SupplierFactory

pytestmark = pytest.mark.django_db

API = "/api/v1/supplier/webhooks"
PAGE = "/console/supplier/webhooks/"


@pytest.fixture
def xinhua():
    return SupplierFactory(code="xinhua", name="浙江新华书店")


@pytest.fixture
def staff(xinhua) -> Client:
    user = create_supplier_user(
        actor=SYSTEM, supplier=xinhua, username="xinhua-staff", password="correct-horse-42"
    )
    client = Client()
    client.force_login(user)
    return client


def post(client: Client, body: dict):
    return client.post(API, body, content_type="application/json")


def test_subscribe_through_the_api_secret_once_then_listed_without_it(staff, xinhua):
    answer = post(
        staff,
        {
            "url": "https://erp.xinhua.example/hook",
            "event_types": ["order.shipped", "order.placed"],
        },
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    saved = SupplierWebhookSubscription.objects.get(supplier=xinhua)
    assert body == {
        "id": saved.pk,
        "url": "https://erp.xinhua.example/hook",
        "event_types": ["order.placed", "order.shipped"],
        "is_active": True,
        "secret": saved.secret,
    }
    assert len(saved.secret) >= 40
    listed = staff.get(API).json()
    assert listed == [
        {
            "id": saved.pk,
            "url": "https://erp.xinhua.example/hook",
            "event_types": ["order.placed", "order.shipped"],
            "is_active": True,
        }
    ]
    audit = AuditEntry.objects.get(action="supplier_webhook.subscribed")
    assert audit.detail["url"] == "https://erp.xinhua.example/hook"
    assert saved.secret not in str(audit.detail)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://127.0.0.1:8000/hook"}, "url"),  # loopback: the SSRF guard, no connection
        ({"url": "http://10.1.2.3/hook"}, "url"),
        ({"url": "http://[::1]/hook"}, "url"),
        ({"url": "ftp://erp.xinhua.example/hook"}, "url"),
        ({"url": "https://erp.xinhua.example/" + "a" * 600}, "url"),
        ({"url": "https://erp.xinhua.example/hook", "event_types": ["card.issued"]}, "event_types"),
        ({"url": "https://erp.xinhua.example/hook", "event_types": ["\ud800"]}, None),
    ],
)
def test_hostile_subscriptions_are_refused_naming_the_field(staff, body, field):
    answer = post(staff, body)
    assert answer.status_code in (400, 422), answer.content
    if field is not None:
        assert answer.json()["code"] == "invalid"
        assert field in answer.json()["detail"]["fields"]
    assert not SupplierWebhookSubscription.objects.exists()
    assert not AuditEntry.objects.filter(action="supplier_webhook.subscribed").exists()


def test_no_supplier_subscribes_for_another_and_the_operator_names_one(
    staff, xinhua, operator_user
):
    SupplierFactory(code="other-books", name="别家书店")
    refused = post(staff, {"url": "https://x.example/h", "supplier_code": "other-books"})
    assert refused.status_code == 403
    assert staff.get(f"{API}?supplier_code=other-books").status_code == 403
    operator = Client()
    operator.force_login(operator_user)
    unnamed = post(operator, {"url": "https://x.example/h"})
    assert (unnamed.status_code, list(unnamed.json()["detail"]["fields"])) == (
        422,
        ["supplier_code"],
    )
    assert not SupplierWebhookSubscription.objects.exists()
    named = post(operator, {"url": "https://x.example/h", "supplier_code": "xinhua"})
    assert named.status_code == 201
    assert SupplierWebhookSubscription.objects.get().supplier == xinhua


def test_the_console_page_shows_the_secret_once(staff, xinhua):
    page = staff.post(PAGE, {"url": "https://erp.xinhua.example/hook"})
    assert page.status_code == 200
    secret = SupplierWebhookSubscription.objects.get(supplier=xinhua).secret
    assert secret in page.content.decode()
    again = staff.get(PAGE).content.decode()
    assert secret not in again
    assert "https://erp.xinhua.example/hook" in again
    refused = staff.post(PAGE, {"url": "http://192.168.1.10/hook"})
    assert refused.status_code == 422
    assert "不允许的地址" in refused.content.decode()
    assert SupplierWebhookSubscription.objects.count() == 1
