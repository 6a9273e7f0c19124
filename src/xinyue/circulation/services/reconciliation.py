"""Nightly reconciliation of credit orders behind loans.

First the outbox rows left pending (a worker died, the provider was down past the retries in
memory) are sent again; then every open credit order that backs a loan is asked for at the
provider (``sync_credit_order``). A difference — the provider says another state than ours, or
the provider could not be asked — is a ``CreditDrift`` row that the operator sees on the console
until a later run finds the order in step again (each run replaces the list; the
reconciliation's audit row keeps the counts).
"""

from __future__ import annotations

from xinyue.circulation.models import CreditDrift, Loan
from xinyue.circulation.services import credit_sync
from xinyue.core import audit, clock
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError
from xinyue.credit.models import CreditOrder

OPEN = [
    CreditOrder.State.PENDING_CONFIRM,
    CreditOrder.State.BORROWED,
    CreditOrder.State.OVERDUE,
    CreditOrder.State.CHARGING,
    CreditOrder.State.CHARGE_FAILED,
]


def reconcile() -> dict[str, int]:
    """Returns counts: rows resent, orders checked, drift found."""
    from xinyue.credit.services import sync_credit_order

    today = clock.today()
    resent = credit_sync.resend_pending()
    references = set(
        Loan.objects.exclude(credit_reference="").values_list("credit_reference", flat=True)
    )
    checked = drift = 0
    CreditDrift.objects.all().delete()  # each night's list replaces the last
    orders = CreditOrder.objects.filter(state__in=OPEN, reference__in=references)
    for order in orders.iterator(chunk_size=500):
        ours = order.state
        checked += 1
        try:
            after = sync_credit_order(order=order)
        except DomainError as exc:
            CreditDrift.objects.create(
                credit_reference=order.reference,
                ours=ours,
                note=f"provider unreachable: {exc.code}"[:200],
                found_on=today,
            )
            drift += 1
            continue
        if after.state != ours or after.pending_op:
            CreditDrift.objects.create(
                credit_reference=order.reference,
                ours=ours,
                provider=after.state,
                note=f"pending {after.pending_op}" if after.pending_op else "",
                found_on=today,
            )
            drift += 1
    counts = {"resent": resent, "checked": checked, "drift": drift}
    audit.record(
        actor=SYSTEM,
        action="credit.reconciled",
        object_type="reconciliation",
        resent=resent,
        checked=checked,
        drift=drift,
    )
    return counts
