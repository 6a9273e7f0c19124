"""The credit app's part in a reader's rights (hooks of ``xinyue.readers.services.rights``):
what the export shows, what blocks deleting the account, what deletion erases."""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from xinyue.core.actors import Actor
from xinyue.credit.models import CreditAuthorization, CreditOrder, ProviderNotification
from xinyue.readers.models import Reader


def export_credit(*, reader) -> tuple[str, dict[str, Any]]:
    """Decisions (never a score) and credit orders, as the reader's data."""
    authorizations = [
        {
            "provider": a.provider,
            "status": a.status,
            "threshold": a.threshold,
            "consent_version": a.consent_version,
            "started_at": a.created_at.isoformat(),
            "decided_at": a.decided_at.isoformat() if a.decided_at else None,
            "decided_via": a.decided_via,
            "expires_at": a.expires_at.isoformat() if a.expires_at else None,
        }
        for a in CreditAuthorization.objects.filter(reader=reader).order_by("created_at", "id")
    ]
    orders = [
        {
            "out_order_no": o.out_order_no,
            "provider": o.provider,
            "goods_name": o.goods_name,
            "deposit_fen": o.deposit_fen,
            "state": o.state,
            "borrowed_at": o.borrowed_at.isoformat(),
            "due_at": o.due_at.isoformat(),
            "returned_at": o.returned_at.isoformat() if o.returned_at else None,
            "charged_fen": o.charged_fen,
        }
        for o in CreditOrder.objects.filter(reader=reader).order_by("created_at", "id")
    ]
    return "credit", {"authorizations": authorizations, "credit_orders": orders}


def open_credit_obligations(*, reader) -> list[str]:
    """An open credit order (a book out, a deduction pending) blocks deleting the account."""
    count = sum(1 for o in CreditOrder.objects.filter(reader=reader) if o.is_open)
    return [_("%(n)d 笔信用借还订单尚未完结") % {"n": count}] if count else []


def erase_credit(*, actor: Actor, reader: Reader) -> None:
    """Drop what links the reader to the provider; keep decisions (the automated-decision log)
    and credit orders (accounting) pointing at the anonymised reader."""
    authorizations = CreditAuthorization.objects.filter(reader=reader)
    references = list(authorizations.values_list("request_no", flat=True))
    references += list(
        CreditOrder.objects.filter(reader=reader).values_list("out_order_no", flat=True)
    )
    authorizations.update(provider_user_id="", confirm_url="", provider_ref="")
    CreditOrder.objects.filter(reader=reader).update(confirm_url="", pending_args={})
    ProviderNotification.objects.filter(Q(reference__in=references)).update(payload={})
