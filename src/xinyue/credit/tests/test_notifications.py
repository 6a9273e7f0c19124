"""The notification endpoint: verified before anything is written, stored once, applied once;
forged, tampered, replayed, stale and misdirected notifications change nothing."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

import pytest

from xinyue.core import clock
from xinyue.credit import conf, crypto
from xinyue.credit.models import AuthorizationEvent, CreditAuthorization, ProviderNotification
from xinyue.credit.providers.zhima import alipay_time

URL = "/api/v1/credit/notify/sandbox"


@pytest.fixture
def pending(reader):
    return CreditAuthorization.objects.create(
        reader=reader,
        provider="sandbox",
        request_no="XYA20260312093015ABCD1234",
        threshold=550,
        provider_ref="ZM2026031209301500000001",
    )


def notification(*, key=None, **overrides):
    fields = {
        "notify_id": secrets.token_hex(16),
        "notify_time": alipay_time(clock.now()),
        "notify_type": "zhima_credit_admittance",
        "app_id": "2021000000000001",
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        "transaction_id": "XYA20260312093015ABCD1234",
        "biz_no": "ZM2026031209301500000001",
        "is_admittance": "Y",
        "user_id": "2088000000000042",
        **overrides,
    }
    key = key or conf.private_key(conf.ensure_sandbox_keys()["gateway_private"])
    fields["sign"] = crypto.alipay_sign_notification(key, fields)
    return fields


def send(client, fields):
    """As Alipay sends it: a form-encoded POST."""
    return client.post(URL, urlencode(fields), content_type="application/x-www-form-urlencoded")


def send_to(client, url, fields):
    return client.post(url, urlencode(fields), content_type="application/x-www-form-urlencoded")


def unchanged(pending):
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert pending.decided_at is None
    assert ProviderNotification.objects.count() == 0
    assert AuthorizationEvent.objects.count() == 0


@pytest.mark.django_db
def test_a_valid_notification_decides_once_and_is_acknowledged(client, pending):
    fields = notification()
    response = send(client, fields)
    assert response.status_code == 200
    assert response.content == b"success"
    pending.refresh_from_db()
    assert (pending.status, pending.decided_via, pending.provider_user_id) == (
        "admitted",
        "notification",
        "2088000000000042",
    )
    row = ProviderNotification.objects.get()
    assert row.notify_id == fields["notify_id"]
    assert row.outcome == "applied"
    assert "sign" not in row.payload
    assert row.payload["is_admittance"] == "Y"
    # The same notification again (a duplicate, or a replay): success, no second effect.
    assert send(client, fields).content == b"success"
    assert ProviderNotification.objects.count() == 1
    assert AuthorizationEvent.objects.filter(to_state="admitted").count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "field", ["is_admittance", "transaction_id", "user_id", "notify_time", "app_id", "notify_id"]
)
def test_a_one_byte_change_is_rejected(client, pending, field):
    fields = notification()
    value = fields[field]
    fields[field] = value[:-1] + ("N" if value[-1] != "N" else "Y")
    response = send(client, fields)
    assert response.content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_a_forger_signing_with_their_own_key_is_rejected(client, pending, stranger_key):
    assert send(client, notification(key=stranger_key)).content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_our_own_app_key_is_not_the_gateway_key(client, pending):
    ours = conf.private_key(conf.ensure_sandbox_keys()["app_private"])
    assert send(client, notification(key=ours)).content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_stale_and_future_notifications_are_rejected(client, pending):
    old = alipay_time(clock.now() - dt.timedelta(hours=73))
    future = alipay_time(clock.now() + dt.timedelta(minutes=10))
    assert send(client, notification(notify_time=old)).content == b"fail"
    assert send(client, notification(notify_time=future)).content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_another_app_a_wrong_sign_type_or_no_signature_is_rejected(client, pending):
    assert send(client, notification(app_id="2021999999999999")).content == b"fail"
    fields = notification()
    fields["sign_type"] = "RSA"
    assert send(client, fields).content == b"fail"
    fields = notification()
    del fields["sign"]
    assert send(client, fields).content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_a_repeated_field_is_rejected(client, pending):
    fields = notification()
    body = "&".join(f"{k}={v}" for k, v in fields.items()) + "&is_admittance=N"
    response = client.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert response.content == b"fail"
    unchanged(pending)


@pytest.mark.django_db
def test_empty_values_are_signed_too(client, pending):
    fields = notification(user_id="")
    assert send(client, fields).content == b"success"
    pending.refresh_from_db()
    assert pending.status == "admitted"


@pytest.mark.django_db
def test_an_unknown_reference_is_acknowledged_and_recorded(client, pending):
    response = send(client, notification(transaction_id="XYA-not-ours"))
    assert response.content == b"success"
    assert ProviderNotification.objects.get().outcome == "unknown_reference"
    pending.refresh_from_db()
    assert pending.status == "pending"


@pytest.mark.django_db
def test_a_biz_no_that_does_not_match_is_not_applied(client, pending):
    send(client, notification(biz_no="ZM-other"))
    assert ProviderNotification.objects.get().outcome == "reference_mismatch"
    pending.refresh_from_db()
    assert pending.status == "pending"


@pytest.mark.django_db
def test_the_first_decision_stands(client, pending):
    send(client, notification(is_admittance="N"))
    send(client, notification(is_admittance="Y"))
    pending.refresh_from_db()
    assert pending.status == "refused"
    assert ProviderNotification.objects.count() == 2


@pytest.mark.django_db
def test_unknown_providers_and_oversized_bodies(client):
    assert send_to(client, "/api/v1/credit/notify/nobody", {"a": "1"}).status_code == 404
    big = client.post(URL, "a=" + "x" * 70000, content_type="application/x-www-form-urlencoded")
    assert big.status_code == 413
    assert ProviderNotification.objects.count() == 0
