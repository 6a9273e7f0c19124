"""Supplier changes, and the supplier's webhooks (signed, retried, SSRF-guarded by
``core/webhooks.py`` exactly as member libraries' are)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, outbound, webhooks
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_operator, require_supplier
from xinyue.suppliers.errors import SupplierCodeTaken
from xinyue.suppliers.models import (
    Supplier,
    SupplierWebhookDelivery,
    SupplierWebhookSubscription,
)

SUPPLIER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")

# What a supplier's system can hear about the orders with its lines (docs/api.md, "Orders").
SUPPLIER_EVENT_TYPES = (
    "order.placed",
    "order.awaiting_confirmation",
    "order.confirmed",
    "order.partially_shipped",
    "order.shipped",
    "order.line_rejected",
    "order.delivered",
    "order.received",
    "order.cancelled",
    "order.expired",
    "order.rejected",
)


@transaction.atomic
def create_supplier(
    *, actor: Actor, code: str, name: str, contact: str = "", phone: str = ""
) -> Supplier:
    """The operator registers a supplier; its code names it in imports, API keys and orders."""
    require_operator(actor)
    code = code.strip().lower()
    if not SUPPLIER_CODE.match(code):
        raise InvalidInput(fields={"code": _("代码应为 2–40 位小写字母、数字或连字符")})
    if not name.strip():
        raise InvalidInput(fields={"name": _("请填写书商名称")})
    if Supplier.objects.filter(code=code).exists():
        raise SupplierCodeTaken(code=code)
    supplier = Supplier.objects.create(
        code=code, name=name.strip(), contact=contact.strip(), phone=phone.strip()
    )
    audit.record(actor=actor, action="supplier.created", obj=supplier, code=code)
    return supplier


# --- webhooks -----------------------------------------------------------------------------------


@transaction.atomic
def allow_supplier_networks(*, actor: Actor, supplier: Supplier, networks: list[str]) -> Supplier:
    """The operator lets a supplier's webhooks reach a network besides the public internet
    (its own system on a private network); audited before → after."""
    require_operator(actor)
    try:
        cleaned = [str(n) for n in outbound.parse_networks(networks)]
    except ValueError as exc:
        raise InvalidInput(
            fields={"networks": _("“%(value)s”不是网段") % {"value": str(exc)}}
        ) from None
    before = list(supplier.outbound_allow_networks)
    supplier.outbound_allow_networks = cleaned
    supplier.save(update_fields=["outbound_allow_networks", "updated_at"])
    audit.record(
        actor=actor, action="supplier.outbound_allowed", obj=supplier, before=before, after=cleaned
    )
    return supplier


@transaction.atomic
def subscribe_supplier_webhook(
    *, actor: Actor, supplier: Supplier, url: str, event_types: list[str] | None = None
) -> SupplierWebhookSubscription:
    """Register a supplier system's endpoint; the signing secret is generated here, shown once."""
    require_supplier(actor, supplier.pk)
    if not url.startswith(("http://", "https://")) or len(url) > 500:
        raise InvalidInput(fields={"url": _("应以 http:// 或 https:// 开头，最长 500 个字符")})
    unknown = sorted(set(event_types or []) - set(SUPPLIER_EVENT_TYPES))
    if unknown:
        raise InvalidInput(
            fields={
                "event_types": _("没有这种事件：%(types)s") % {"types": ", ".join(unknown)[:200]}
            }
        )
    outbound.check_url(url, field="url", allowed_networks=supplier.outbound_allow_networks)
    subscription = SupplierWebhookSubscription.objects.create(
        supplier=supplier,
        url=url,
        secret=secrets.token_urlsafe(32),
        event_types=sorted(set(event_types or [])),
    )
    audit.record(actor=actor, action="supplier_webhook.subscribed", obj=subscription, url=url)
    return subscription


def publish_supplier_event(
    *, supplier_ids: Iterable[int], event_type: str, data: dict[str, Any]
) -> list[SupplierWebhookDelivery]:
    """Queue ``event_type`` for the subscriptions of each supplier; delivered after the commit.
    Call inside the transaction of the change."""
    from xinyue.suppliers.tasks import deliver_supplier_webhook

    ids = sorted(set(supplier_ids))
    if not ids:
        return []
    deliveries: list[SupplierWebhookDelivery] = []
    subscriptions = SupplierWebhookSubscription.objects.filter(
        supplier_id__in=ids, is_active=True
    ).select_related("supplier")
    for subscription in subscriptions.order_by("supplier_id", "id"):
        deliveries += webhooks.queue_deliveries(
            subscriptions=[subscription],
            delivery_model=SupplierWebhookDelivery,
            event_type=event_type,
            envelope={"supplier_code": subscription.supplier.code},
            data=data,
            enqueue=lambda pk: deliver_supplier_webhook.enqueue(delivery_id=pk),
        )
    return deliveries


def attempt_supplier_webhook_delivery(*, delivery_id: int) -> SupplierWebhookDelivery | None:
    """Send one delivery once; returns it when a retry should be scheduled, else None."""
    return webhooks.attempt_delivery(
        delivery_model=SupplierWebhookDelivery,
        delivery_id=delivery_id,
        allowed_networks=lambda s: s.supplier.outbound_allow_networks,
        related="subscription__supplier",
    )
