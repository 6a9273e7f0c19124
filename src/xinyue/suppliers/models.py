"""Suppliers (书商): the organisations that offer new books and ship platform orders.

An organisation like a member library, below accounts (a supplier's staff are users) and below
the catalog (a supplier's offers are catalog rows).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, WebhookDeliveryRow, WebhookSubscriptionRow


class Supplier(BaseModel):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    # Networks besides the public internet its webhooks may reach (set by the operator, audited).
    outbound_allow_networks = models.JSONField(default=list, blank=True)

    class Meta:
        # The table was created by the catalog app; the model moved, the data stayed.
        db_table = "catalog_supplier"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SupplierWebhookSubscription(WebhookSubscriptionRow):
    """A supplier's system that wants to hear about its orders (placed, confirmed, cancelled …)."""

    supplier = models.ForeignKey(
        Supplier, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )


class SupplierWebhookDelivery(WebhookDeliveryRow):
    """One event for one supplier subscription (``core/webhooks.py`` sends and retries it)."""

    subscription = models.ForeignKey(
        SupplierWebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
