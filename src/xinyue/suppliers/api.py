"""API: a supplier's webhook subscriptions (its own staff or key; the operator names the supplier)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Query, Router, Schema, Status
from pydantic import Field

from xinyue.core.schemas import ErrorOut
from xinyue.suppliers import selectors, services

router = Router(tags=["supplier"])


class SupplierQuery(Schema):
    supplier_code: str | None = Field(None, description="the operator names the supplier")


class SupplierWebhookIn(Schema):
    url: str = Field(description="https (or http) URL of the supplier's system")
    event_types: list[str] = Field(
        default=[], description="`order.*` events to receive; empty: every event"
    )
    supplier_code: str | None = Field(None, description="the operator names the supplier")


class SupplierWebhookOut(Schema):
    id: int
    url: str
    event_types: list[str]
    is_active: bool


class SupplierWebhookCreatedOut(SupplierWebhookOut):
    secret: str = Field(description="the HMAC-SHA256 signing secret, shown only in this answer")


@router.get(
    "/supplier/webhooks",
    response={200: list[SupplierWebhookOut], 403: ErrorOut, 422: ErrorOut},
    summary="The calling supplier's webhook subscriptions",
)
def list_supplier_webhooks(request: HttpRequest, filters: Query[SupplierQuery]) -> Any:
    supplier = selectors.acting_supplier(actor=request.auth, supplier_code=filters.supplier_code)
    return selectors.webhook_subscriptions(supplier=supplier)


@router.post(
    "/supplier/webhooks",
    response={201: SupplierWebhookCreatedOut, 403: ErrorOut, 422: ErrorOut},
    summary="Subscribe the supplier's system to its orders' events; the secret is returned once",
)
def create_supplier_webhook(request: HttpRequest, payload: SupplierWebhookIn) -> Any:
    supplier = selectors.acting_supplier(actor=request.auth, supplier_code=payload.supplier_code)
    subscription = services.subscribe_supplier_webhook(
        actor=request.auth, supplier=supplier, url=payload.url, event_types=payload.event_types
    )
    return Status(201, subscription)
