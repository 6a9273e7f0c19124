"""Outbound webhooks written once: signing, queueing a delivery per subscription, and one
attempt of one delivery (retried by the owning app's task through ``core/retries``).

Member libraries (``libraries.WebhookSubscription``) and suppliers
(``suppliers.SupplierWebhookSubscription``) subscribe to events; both apps sit above core and
beside each other, so the machinery lives here and each keeps only its tables (on the abstract
``WebhookSubscriptionRow`` / ``WebhookDeliveryRow`` of ``core.models``), its publisher and a
thin task. Every request goes through ``core.outbound`` (the SSRF guard) with the networks the
owner's operator allowed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import requests
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from xinyue.core import clock, outbound
from xinyue.core.models import WebhookDeliveryRow, WebhookSubscriptionRow
from xinyue.core.retries import Backoff

log = logging.getLogger("xinyue.webhooks")

SIGNATURE_HEADER = "X-Xinyue-Signature"
DELIVERY_FAILED = "delivery failed"
CONNECT_TIMEOUT_SECONDS = 3

Delivery = TypeVar("Delivery", bound=WebhookDeliveryRow)


def sign_webhook(secret: str, body: bytes, timestamp: int) -> str:
    """``t=<unix>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``: receivers recompute and compare."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify_webhook_signature(
    secret: str, body: bytes, header: str, *, tolerance_s: int = 300
) -> bool:
    """What a receiving system does (and what our tests do)."""
    try:
        parts = dict(part.split("=", 1) for part in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    if abs(time.time() - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(sign_webhook(secret, body, timestamp), header)


def webhook_backoff() -> Backoff:
    """30 s, 1 min, 2 min … capped at one hour, at most ``XINYUE_WEBHOOK_MAX_ATTEMPTS`` tries."""
    return Backoff.doubling(30, cap=3600, max_attempts=settings.WEBHOOK_MAX_ATTEMPTS)


def queue_deliveries(
    *,
    subscriptions: Iterable[WebhookSubscriptionRow],
    delivery_model: type[Delivery],
    event_type: str,
    envelope: dict[str, Any],
    data: dict[str, Any],
    enqueue: Callable[[int], Any],
) -> list[Delivery]:
    """A delivery row per interested subscription, each enqueued after the commit.

    Call inside the transaction of the change: if it rolls back, nothing is sent. ``envelope``
    says whose event it is (``{"library_code": …}`` or ``{"supplier_code": …}``)."""
    deliveries = []
    for subscription in subscriptions:
        if not subscription.wants(event_type):
            continue
        event_id = f"evt_{uuid.uuid4().hex}"
        payload = {
            "id": event_id,
            "type": event_type,
            **envelope,
            "created_at": clock.now().isoformat(),
            "data": data,
        }
        delivery = delivery_model.objects.create(
            subscription=subscription, event_id=event_id, event_type=event_type, payload=payload
        )
        deliveries.append(delivery)
        transaction.on_commit(lambda pk=delivery.pk: enqueue(pk))
    return deliveries


def attempt_delivery(
    *,
    delivery_model: type[Delivery],
    delivery_id: int,
    allowed_networks: Callable[[Any], Any],
    related: str = "subscription",
) -> Delivery | None:
    """Send one delivery once. Returns it when a retry should be scheduled, else None.

    The attempt is claimed with a conditional UPDATE (no lock held during HTTP), so two workers
    running the same job cannot both send it. ``allowed_networks(subscription)`` gives the
    networks the operator allowed this owner besides the public internet."""
    Status = WebhookDeliveryRow.Status
    delivery = delivery_model.objects.select_related(related).filter(pk=delivery_id).first()
    if delivery is None or delivery.status != Status.PENDING:
        return None
    claimed = delivery_model.objects.filter(
        pk=delivery.pk, status=Status.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1, last_attempt_at=clock.now())
    if not claimed:
        return None
    delivery.attempts += 1
    body = json.dumps(
        delivery.payload, cls=DjangoJSONEncoder, ensure_ascii=False, separators=(",", ":")
    ).encode()
    subscription = delivery.subscription  # type: ignore[attr-defined]
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "xinyue-webhooks/1",
        "X-Xinyue-Event": delivery.event_type,
        "X-Xinyue-Delivery": delivery.event_id,
        SIGNATURE_HEADER: sign_webhook(subscription.secret, body, int(time.time())),
    }
    # The page shows one generic failure whatever happened, so that it cannot be used to tell
    # open ports from closed ones; what happened goes to the server's log.
    try:
        response = outbound.post(
            subscription.url,
            allowed_networks=allowed_networks(subscription),
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_SECONDS, settings.WEBHOOK_TIMEOUT_SECONDS),
        )
        if 200 <= response.status_code < 300:
            delivery_model.objects.filter(pk=delivery.pk).update(
                status=Status.DELIVERED, delivered_at=clock.now(), last_error=""
            )
            return None
        detail = f"HTTP {response.status_code}"
    except (requests.RequestException, outbound.OutboundRefused) as exc:
        detail = type(exc).__name__
    log.warning(
        "webhook delivery %s (%s) to subscription %s failed: %s",
        delivery.pk,
        delivery_model.__name__,
        subscription.pk,
        detail,
    )
    final = webhook_backoff().gives_up(delivery.attempts)
    delivery_model.objects.filter(pk=delivery.pk).update(
        last_error=DELIVERY_FAILED, status=Status.FAILED if final else Status.PENDING
    )
    return None if final else delivery
