"""Console pages of a supplier's own settings: its webhook subscriptions."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse

from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.core.errors import DomainError
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
    form = SupplierWebhookForm(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            subscription = services.subscribe_supplier_webhook(
                actor=request.actor,  # type: ignore[attr-defined]
                supplier=supplier,
                url=form.cleaned_data["url"],
                event_types=form.cleaned_data["event_types"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            new_secret = subscription.secret
            form = SupplierWebhookForm()
    return render_console(
        request,
        "suppliers/console_webhooks.html",
        {
            "supplier": supplier,
            "form": form,
            "new_secret": new_secret,
            "subscriptions": selectors.webhook_subscriptions(supplier=supplier),
            "deliveries": selectors.recent_webhook_deliveries(supplier=supplier),
        },
        status=422 if form.errors else 200,
    )
