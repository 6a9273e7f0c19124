"""What a loan owes its credit order at the provider: completion after the return of the last
book of the order, a later due time after a renewal.

Called after the loan's own change is committed, never inside it (the provider is outside our
transaction). The loan keeps what it still owes (``credit_sync``) until the provider has it: the
credit services retry their own calls that timed out; a call they refused before sending (another
operation in flight, the provider switched off) is retried here by the ``sync_loan_credit`` task
with ``core.retries``. Both are idempotent: the credit order is completed or extended once.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import transaction
from django.db.models import F

from xinyue.circulation.models import Loan
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import DomainError
from xinyue.core.retries import Backoff, retry_later
from xinyue.credit.models import CreditOrder
from xinyue.credit.selectors import credit_order_by_reference

log = logging.getLogger("xinyue.circulation.credit")

COMPLETE, EXTEND = "complete", "extend"
BACKOFF = Backoff(steps=(30, 60, 300, 900, 3600), max_attempts=20)
OPEN_STATES = (CreditOrder.State.BORROWED, CreditOrder.State.OVERDUE)


def due_at(day: dt.date) -> dt.datetime:
    """A due date as the provider's latest return time: the end of that day in Asia/Shanghai."""
    return clock.start_of_day(day + dt.timedelta(days=1)) - dt.timedelta(seconds=1)


def _sync(loan: Loan) -> bool:
    """Send what ``loan`` owes; True when nothing is owed any more."""
    from xinyue.credit.services import complete_credit_order, extend_credit_order

    order = credit_order_by_reference(reference=loan.credit_reference)
    if order is None:
        return True
    if loan.credit_sync == COMPLETE:
        others_open = (
            Loan.objects.filter(credit_reference=loan.credit_reference, status=Loan.Status.ON_LOAN)
            .exclude(pk=loan.pk)
            .exists()
        )
        if others_open or order.state not in OPEN_STATES:
            return True  # another book of the order is still out, or already completed
        order = complete_credit_order(
            actor=SYSTEM, order=order, returned_at=loan.returned_at, shop_name="信阅"
        )
    elif loan.credit_sync == EXTEND:
        latest = (
            Loan.objects.filter(credit_reference=loan.credit_reference, status=Loan.Status.ON_LOAN)
            .order_by("-due_on")
            .values_list("due_on", flat=True)
            .first()
        )
        if latest is None or order.state not in OPEN_STATES:
            return True
        wanted = due_at(latest)
        if wanted <= order.due_at:
            return True  # the order already covers the new due date
        order = extend_credit_order(actor=SYSTEM, order=order, due_at=wanted)
    # A call that timed out stays pending on the credit order, which retries it itself.
    return True


def sync_loan_credit(*, loan_id: int) -> int | None:
    """Send what the loan owes its credit order. None when done; else how many attempts have
    failed (the caller schedules the next by ``BACKOFF``)."""
    loan = Loan.objects.filter(pk=loan_id).first()
    if loan is None or not loan.credit_sync or not loan.credit_reference:
        return None
    try:
        _sync(loan)
    except DomainError as exc:
        log.warning("loan %s: credit %s failed: %s", loan.pk, loan.credit_sync, exc.code)
        Loan.objects.filter(pk=loan.pk).update(credit_attempts=F("credit_attempts") + 1)
        return loan.credit_attempts + 1
    Loan.objects.filter(pk=loan.pk, credit_sync=loan.credit_sync).update(
        credit_sync="", credit_attempts=0
    )
    return None


def send_after_commit(loan: Loan) -> None:
    """Send what ``loan`` owes now that its change is committed; on failure schedule a retry."""
    from xinyue.circulation.tasks import sync_loan_credit as task

    failures = sync_loan_credit(loan_id=loan.pk)
    if failures is not None:
        transaction.on_commit(
            lambda: retry_later(task, backoff=BACKOFF, failures=failures, loan_id=loan.pk)
        )
