"""Outbound webhooks: HMAC-signed, retried through background work, delivered once."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

import pytest
from conftest import allow_loopback
from django.db import transaction

from xinyue.core.testing import run_scheduled_tasks
from xinyue.libraries.models import WebhookDelivery
from xinyue.libraries.services import (
    publish_library_event,
    sign_webhook,
    subscribe_webhook,
    verify_webhook_signature,
)


class Receiver:
    """A member library's system on a loopback port: fails the first ``failures`` requests."""

    def __init__(self, start, failures: int = 0) -> None:
        self.failures = failures
        self.server = start(self.answer, path="/hooks")
        self.url = self.server.url
        self.requests = self.server.requests

    def answer(self, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        return (500 if len(self.requests) <= self.failures else 204), b""

    def accepted(self) -> list[dict]:
        return self.requests[self.failures :]


@pytest.fixture
def receiver(loopback_server):
    return lambda failures=0: Receiver(loopback_server, failures)


@pytest.mark.django_db
def test_delivery_retried_after_receiver_failure_arrives_once_signed(
    hangzhou, hz_admin, receiver, django_capture_on_commit_callbacks
):
    ils = receiver(failures=1)
    subscription = subscribe_webhook(actor=hz_admin, library=allow_loopback(hangzhou), url=ils.url)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        (delivery,) = publish_library_event(
            library=hangzhou, event_type="card.issued", data={"card_number": "3301000001"}
        )
    delivery.refresh_from_db()
    assert len(ils.requests) == 1
    assert (delivery.status, delivery.attempts, delivery.last_error) == (
        "pending",
        1,
        "delivery failed",
    )

    with django_capture_on_commit_callbacks(execute=True):
        assert run_scheduled_tasks() == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert run_scheduled_tasks() == 0  # nothing left to retry

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 2)
    (accepted,) = ils.accepted()
    headers, body = accepted["headers"], accepted["body"]
    assert verify_webhook_signature(subscription.secret, body, headers["X-Xinyue-Signature"])
    assert not verify_webhook_signature("another-secret", body, headers["X-Xinyue-Signature"])
    assert not verify_webhook_signature(
        subscription.secret, body + b" ", headers["X-Xinyue-Signature"]
    )
    payload = json.loads(body)
    assert payload["type"] == "card.issued"
    assert payload["library_code"] == "330100"
    assert payload["data"] == {"card_number": "3301000001"}
    assert headers["X-Xinyue-Delivery"] == payload["id"] == delivery.event_id
    # Both attempts carried the same event id, so a receiver can drop a duplicate.
    assert ils.requests[0]["headers"]["X-Xinyue-Delivery"] == delivery.event_id


@pytest.mark.django_db
def test_nothing_is_sent_when_the_change_rolls_back(
    hangzhou, hz_admin, receiver, django_capture_on_commit_callbacks
):
    ils = receiver()
    subscribe_webhook(actor=hz_admin, library=allow_loopback(hangzhou), url=ils.url)

    def failing_service() -> None:
        with transaction.atomic():
            publish_library_event(library=hangzhou, event_type="card.issued", data={})
            raise RuntimeError("the service failed after publishing")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        failing_service()
    assert ils.requests == []
    assert WebhookDelivery.objects.count() == 0


@pytest.mark.django_db
def test_delivery_gives_up_after_the_last_attempt(
    hangzhou, hz_admin, receiver, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    ils = receiver(failures=10)
    subscribe_webhook(actor=hz_admin, library=allow_loopback(hangzhou), url=ils.url)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        (delivery,) = publish_library_event(
            library=hangzhou, event_type="book.transferred", data={}
        )
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            run_scheduled_tasks(after=dt.timedelta(days=2))
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("failed", 3)
    assert len(ils.requests) == 3


@pytest.mark.django_db
def test_subscription_filters_event_types(
    hangzhou, hz_admin, receiver, django_capture_on_commit_callbacks
):
    ils = receiver()
    subscribe_webhook(
        actor=hz_admin,
        library=allow_loopback(hangzhou),
        url=ils.url,
        event_types=["book.transferred"],
    )
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        assert publish_library_event(library=hangzhou, event_type="card.issued", data={}) == []
    assert ils.requests == []


def test_signature_format_is_stable():
    assert sign_webhook("s3cret", b'{"a":1}', 1700000000) == (
        "t=1700000000,v1=" + hmac.new(b"s3cret", b'1700000000.{"a":1}', hashlib.sha256).hexdigest()
    )
