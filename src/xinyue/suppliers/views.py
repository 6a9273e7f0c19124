"""Console pages of a supplier's own settings: its webhook subscriptions."""

from __future__ import annotations

from functools import partial

from django.http import HttpRequest, HttpResponse

from xinyue.accounts.console import console_view, webhook_console
from xinyue.suppliers import selectors, services
from xinyue.suppliers.forms import SupplierWebhookForm


@console_view
def console_webhooks(request: HttpRequest) -> HttpResponse:
    """Supplier staff subscribe their system to the events of their orders; the secret is shown
    once, and the latest deliveries say whether their endpoint answers."""
    supplier = selectors.acting_supplier(
        actor=request.actor,  # type: ignore[attr-defined]
        supplier_code=request.GET.get("supplier") or None,
    )
    return webhook_console(
        request,
        form_class=SupplierWebhookForm,
        subscribe=partial(
            services.subscribe_supplier_webhook,
            actor=request.actor,  # type: ignore[attr-defined]
            supplier=supplier,
        ),
        template="suppliers/console_webhooks.html",
        context={
            "supplier": supplier,
            "subscriptions": selectors.webhook_subscriptions(supplier=supplier),
            "deliveries": selectors.recent_webhook_deliveries(supplier=supplier),
        },
    )
