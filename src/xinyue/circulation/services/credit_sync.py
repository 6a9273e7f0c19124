"""The credit outbox: every borrow, renewal, return, overdue and charge of a loan with a credit
order is a ``CreditRecord`` row written in the same transaction as the loan's change, then sent to
the provider by a worker (``send_credit_record`` task) with ``core.retries``. This is the one way
circulation reaches the provider.

Exactly once at the provider: a row's ``key`` is unique (writing it again is a no-op), a row is
sent until the provider has it, and what it asks of the credit order is idempotent there (the
credit order's ``out_order_no``; completion only from an open state, extension only later). The
credit services retry their own timed-out calls; a row whose call was refused before it was sent
(another operation in flight, the provider switched off) or whose deduction failed is retried
here.

What each kind asks of the credit order (one order may back several loans of one order):

* borrow — the order was opened by the orders app; the row confirms its state with a query;
* renew, correction — extend to the end of the latest due date among the order's open loans (never earlier);
* overdue — the provider marks an order overdue itself once its latest return time has passed
  (research note §1.3: overdue is a negative record through the order, no separate call); the row
  asks for the order's state so that ours follows the provider's;
* return, charge — once no loan of the order is still on loan, complete the order: with the
  compensation of its lost loans not paid at a desk (``LOST``), else a plain return.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F, Sum

from xinyue.circulation.models import CreditRecord, Loan
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError
from xinyue.core.retries import Backoff, retry_later
from xinyue.credit.models import CreditOrder
from xinyue.credit.selectors import credit_order_by_reference

log = logging.getLogger("xinyue.circulation.credit")

BACKOFF = Backoff(steps=(30, 60, 300, 900, 3600), max_attempts=20)
OPEN_STATES = (CreditOrder.State.BORROWED, CreditOrder.State.OVERDUE)
Kind = CreditRecord.Kind


class Waiting(Exception):
    """A charge waits for the order's other books: the last one's return row completes the order
    with it (no retry is scheduled; the row stays pending)."""


class NotYet(Exception):
    """The row cannot be sent yet (a deduction failed at the provider, an operation in flight);
    retried by back-off."""


def due_at(day: dt.date) -> dt.datetime:
    """A due date as the provider's latest return time: the end of that day in Asia/Shanghai."""
    return clock.start_of_day(day + dt.timedelta(days=1)) - dt.timedelta(seconds=1)


def record(*, loan: Loan, kind: str, suffix: str = "", charge_fen: int = 0) -> CreditRecord | None:
    """Write the outbox row for ``loan``'s change (call inside the change's transaction); it is
    sent after the commit. None for a loan without a credit order."""
    if not loan.credit_reference:
        return None
    key = f"loan:{loan.pk}:{kind}" + (f":{suffix}" if suffix else "")
    row, created = CreditRecord.objects.get_or_create(
        key=key,
        defaults={
            "reader_id": loan.reader_id,
            "loan": loan,
            "library_id": loan.returned_library_id or loan.library_id,
            "credit_reference": loan.credit_reference,
            "kind": kind,
            "charge_fen": charge_fen,
            "due_on": loan.due_on,
        },
    )
    if created:
        transaction.on_commit(lambda: _enqueue(row.pk))
    return row


def _enqueue(record_id: int) -> None:
    from xinyue.circulation.tasks import send_credit_record as task

    task.enqueue(record_id=record_id)


def _others_out(reference: str) -> bool:
    return Loan.objects.filter(credit_reference=reference, status=Loan.Status.ON_LOAN).exists()


def _owed_charge(reference: str) -> int:
    """The compensation of the order's lost loans that was not paid at a desk."""
    total = (
        Loan.objects.filter(credit_reference=reference, status=Loan.Status.LOST)
        .exclude(settled_by="desk")
        .aggregate(total=Sum("compensation_fen"))["total"]
    )
    return int(total or 0)


def _close(order: CreditOrder, row: CreditRecord) -> None:
    from xinyue.credit.providers.base import CompleteReason
    from xinyue.credit.services import complete_credit_order

    if _others_out(order.reference):
        if row.kind == Kind.CHARGE:
            raise Waiting("waiting for the order's other books")
        return  # the last book's row completes the order
    if order.state == CreditOrder.State.CHARGE_FAILED:
        order = complete_credit_order(actor=SYSTEM, order=order)
    elif order.state in OPEN_STATES:
        charge = min(_owed_charge(order.reference), order.deposit_fen)
        returned = (
            Loan.objects.filter(credit_reference=order.reference, returned_at__isnull=False)
            .order_by("-returned_at")
            .values_list("returned_at", flat=True)
            .first()
        )
        order = complete_credit_order(
            actor=SYSTEM,
            order=order,
            returned_at=returned or clock.now(),
            charge_fen=charge,
            reason=CompleteReason.LOST if charge else CompleteReason.RETURN,
            shop_name="信阅",
        )
    if order.pending_op:
        return  # timed out: the credit order finishes the call itself
    if order.state in (CreditOrder.State.CHARGE_FAILED, CreditOrder.State.CHARGING):
        raise NotYet(f"deduction {order.state}")
    if order.state == CreditOrder.State.CHARGED:
        _settle_charged(order)
    # A charge that waited for this completion went with it.
    CreditRecord.objects.filter(
        credit_reference=order.reference, kind=Kind.CHARGE, state=CreditRecord.State.PENDING
    ).exclude(pk=row.pk).update(state=CreditRecord.State.SENT, sent_at=clock.now(), last_error="")


def _settle_charged(order: CreditOrder) -> None:
    """The provider charged the order: its lost loans are settled (once). The deduction (at most
    the deposit) is shared out over them oldest first; what it did not cover stays unpaid on the
    loan, owed at a desk."""
    from xinyue.circulation.services.overdue import settle_loan

    with transaction.atomic():
        left = order.charged_fen
        for loan in (
            Loan.objects.select_for_update()
            .filter(credit_reference=order.reference, status=Loan.Status.LOST)
            .order_by("id")
        ):
            share = min(left, loan.compensation_fen)
            left -= share
            settle_loan(actor=SYSTEM, loan=loan, by="provider", charged_fen=share)


def _send(row: CreditRecord) -> None:
    from xinyue.credit.services import extend_credit_order, sync_credit_order

    order = credit_order_by_reference(reference=row.credit_reference)
    if order is None:
        return
    if order.pending_op and row.kind != Kind.BORROW:
        raise NotYet(f"credit order busy: {order.pending_op}")
    if row.kind in (Kind.BORROW, Kind.OVERDUE):
        if order.state not in (CreditOrder.State.NEW, CreditOrder.State.REJECTED):
            sync_credit_order(order=order)
    elif row.kind in (Kind.RENEW, Kind.CORRECTION):
        latest = (
            Loan.objects.filter(credit_reference=row.credit_reference, status=Loan.Status.ON_LOAN)
            .order_by("-due_on")
            .values_list("due_on", flat=True)
            .first()
        )
        if latest is not None and order.state in OPEN_STATES and due_at(latest) > order.due_at:
            extend_credit_order(actor=SYSTEM, order=order, due_at=due_at(latest))
    elif row.kind in (Kind.RETURN, Kind.CHARGE):
        _close(order, row)


def send_credit_record(*, record_id: int) -> int | None:
    """Send one outbox row. None when done (or nothing to do); else how many attempts have
    failed (the task schedules the next by ``BACKOFF``)."""
    row = CreditRecord.objects.filter(pk=record_id).first()
    if row is None or row.state in (CreditRecord.State.SENT, CreditRecord.State.CANCELLED):
        return None
    try:
        _send(row)
    except Waiting as exc:
        CreditRecord.objects.filter(pk=row.pk).update(last_error=str(exc))
        return None
    except (DomainError, NotYet) as exc:
        reason = getattr(exc, "code", "") or str(exc)
        log.warning("credit record %s failed: %s", row.key, reason)
        failures = row.attempts + 1
        state = (
            CreditRecord.State.FAILED if BACKOFF.gives_up(failures) else CreditRecord.State.PENDING
        )
        CreditRecord.objects.filter(pk=row.pk).update(
            attempts=F("attempts") + 1, last_error=reason[:200], state=state
        )
        return None if state == CreditRecord.State.FAILED else failures
    CreditRecord.objects.filter(pk=row.pk, state=CreditRecord.State.PENDING).update(
        state=CreditRecord.State.SENT, sent_at=clock.now(), last_error=""
    )
    return None


def schedule_retry(*, record_id: int, failures: int) -> None:
    from xinyue.circulation.tasks import send_credit_record as task

    retry_later(task, backoff=BACKOFF, failures=failures, record_id=record_id)


def resend_pending(*, older_than: dt.timedelta = dt.timedelta(minutes=10)) -> int:
    """Rows still pending after ``older_than`` (a worker died, a queue was lost): send them again
    (the nightly reconciliation's first step). Returns how many were sent."""
    cutoff = clock.now() - older_than
    sent = 0
    for pk in CreditRecord.objects.filter(
        state=CreditRecord.State.PENDING, updated_at__lte=cutoff
    ).values_list("pk", flat=True)[:2000]:
        if send_credit_record(record_id=pk) is None:
            sent += 1
    return sent
