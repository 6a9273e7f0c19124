"""Overdue, loss and compensation: the daily job and the desk's payment.

The daily job (``run_daily``, scheduled in ``circulation/tasks.py``) walks the open loans due
within the reminder window or past due, and for each, by the rule that applies to it:

* ``remind_days_before`` days before the due date: a reminder (before);
* the day after the due date: a reminder (after) and the overdue report (an outbox row);
* ``lost_after_days`` days after the due date: the loan is declared lost, the item is lost, the
  compensation is fixed (list price × factor + fee) and, for a loan with a credit order, a charge
  row goes into the outbox (``complete_order`` with that charge, once the order's other books are
  back). A loan without a credit order (or whose reader prefers it) is paid at a desk.

Every step is keyed by the day, so a job run twice (or a missed day caught up the next) does each
thing once. Reminders are in-app messages to the reader (``notify_reader``, texts stored in
Chinese like every message), keyed by their loan events (``reminder:before``, ``reminder:after``).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from xinyue.circulation import selectors
from xinyue.circulation.errors import CompensationNotDue, LoanNotFound, RefundNotDue
from xinyue.circulation.models import CreditRecord, Item, ItemEvent, Loan, LoanEvent, Program
from xinyue.circulation.services import credit_sync
from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Actor
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require, require_reader
from xinyue.libraries.models import Library
from xinyue.readers.services.messages import notify_reader

REMINDER_BEFORE, REMINDER_AFTER = "reminder:before", "reminder:after"
# How far ahead the job looks for reminders (the longest ``remind_days_before`` it honours).
LOOK_AHEAD_DAYS = 30


def compensation_for(loan: Loan) -> int:
    """List price × the rule's factor (‰, rounded half up to the fen) + the rule's fee."""
    rule = selectors.rule_for_loan(loan).rule
    price = loan.item.list_price_fen
    return (price * rule.compensation_factor_permille + 500) // 1000 + rule.compensation_fee_fen


def _remind(loan: Loan, note: str) -> bool:
    """Tell the reader (an in-app message and any configured sender) once per reminder kind:
    the loan event is both the history and the key that makes a second run do nothing."""
    if LoanEvent.objects.filter(loan=loan, note=note).exists():
        return False
    record_transition(
        LoanEvent,
        loan=loan,
        actor=SYSTEM,
        from_state=loan.status,
        to_state=loan.status,
        note=note,
    )
    title, due = loan.item.title.title, f"{loan.due_on:%Y-%m-%d}"
    if note == REMINDER_BEFORE:
        subject, body = (
            "借阅即将到期",
            f"《{title}》应于 {due} 归还，可在“我的借阅”续借或到任一成员馆归还。",
        )
    else:
        subject, body = "借阅已逾期", f"《{title}》已于 {due} 到期，请尽快到任一成员馆归还。"
    notify_reader(reader=loan.reader, kind=note, subject=subject, body=body, link="/loans/")
    return True


def declare_lost(*, actor: Actor, loan: Loan) -> Loan:
    """The loan is lost: the item is lost, the compensation fixed, the charge put in the outbox
    (loans with a credit order). Idempotent: a lost loan is returned as it is."""
    require(actor, Action.CIRCULATE, library_id=loan.library_id)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().select_related("item").get(pk=loan.pk)
        if locked.status != Loan.Status.ON_LOAN:
            return locked
        locked.status = Loan.Status.LOST
        locked.lost_at = clock.now()
        locked.compensation_fen = compensation_for(locked)
        locked.save(update_fields=["status", "lost_at", "compensation_fen", "updated_at"])
        record_transition(
            LoanEvent,
            loan=locked,
            actor=actor,
            from_state=Loan.Status.ON_LOAN,
            to_state=Loan.Status.LOST,
            audit=Audit(
                "loan.lost",
                library_code=locked.library.code,
                detail={
                    "barcode": locked.item.barcode,
                    "due_on": locked.due_on.isoformat(),
                    "compensation_fen": locked.compensation_fen,
                },
            ),
        )
        item = Item.objects.select_for_update().get(pk=locked.item_id)
        before = item.status
        item.status = Item.Status.LOST
        item.save(update_fields=["status", "updated_at"])
        record_transition(ItemEvent, item=item, actor=actor, from_state=before, to_state="lost")
        credit_sync.record(
            loan=locked, kind=CreditRecord.Kind.CHARGE, charge_fen=locked.compensation_fen
        )
    return locked


def settle_loan(*, actor: Actor, loan: Loan, by: str, charged_fen: int = 0) -> Loan:
    """A lost loan is paid (``by`` "provider" or "desk"): settled. Call inside a transaction with
    the loan locked; a settled loan is left as it is (a repeated completion changes nothing).

    ``charged_fen``: the provider's share of the deduction for this loan. The provider may charge
    at most the credit order's deposit, so a compensation above it leaves the rest unpaid
    (``compensation_unpaid_fen``), owed at a desk and blocking new loans until then."""
    if loan.status != Loan.Status.LOST:
        return loan
    loan.status = Loan.Status.SETTLED
    loan.settled_at = clock.now()
    loan.settled_by = by
    if by == "provider":
        loan.compensation_charged_fen = min(charged_fen, loan.compensation_fen)
        loan.compensation_unpaid_fen = loan.compensation_fen - loan.compensation_charged_fen
    loan.save(
        update_fields=[
            "status",
            "settled_at",
            "settled_by",
            "compensation_charged_fen",
            "compensation_unpaid_fen",
            "updated_at",
        ]
    )
    if loan.program == Program.PLATFORM:
        from xinyue.orders.services import release_platform_volumes

        release_platform_volumes(reader_id=loan.reader_id, volumes=1)
    record_transition(
        LoanEvent,
        loan=loan,
        actor=actor,
        from_state=Loan.Status.LOST,
        to_state=Loan.Status.SETTLED,
        note=by,
        audit=Audit(
            "loan.settled",
            library_code=loan.library.code,
            detail={
                "by": by,
                "compensation_fen": loan.compensation_fen,
                "charged_fen": loan.compensation_charged_fen,
                "unpaid_fen": loan.compensation_unpaid_fen,
            },
        ),
    )
    return loan


def pay_compensation_at_desk(*, actor: Actor, library: Library, loan: Loan) -> Loan:
    """The reader pays a lost book's compensation at ``library``'s desk: the loan is settled, and
    the charge waiting in the outbox is withdrawn (the credit order completes without it). Refused
    once the charge has reached the provider — then the provider's deduction is the payment —
    except for what the deposit cap left unpaid (``compensation_unpaid_fen``), which is paid
    here."""
    require(actor, Action.CIRCULATE, library_id=library.pk)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().select_related("library").get(pk=loan.pk)
        if locked.status == Loan.Status.SETTLED and locked.compensation_unpaid_fen:
            return _pay_unpaid_at_desk(actor, library, locked)
        if locked.status != Loan.Status.LOST:
            raise CompensationNotDue(status=locked.status)
        charge = CreditRecord.objects.select_for_update().filter(
            loan=locked, kind=CreditRecord.Kind.CHARGE
        )
        row = charge.first()
        if row is not None and row.state == CreditRecord.State.SENT:
            raise CompensationNotDue(status="charged")
        if row is not None:
            charge.update(state=CreditRecord.State.CANCELLED, last_error="paid at a desk")
        settle_loan(actor=actor, loan=locked, by="desk")
        from xinyue.core import audit

        audit.record(
            actor=actor,
            action="loan.compensation_paid",
            obj=locked,
            library_code=library.code,
            compensation_fen=locked.compensation_fen,
        )
        # The credit order still has to end (without a charge) once the order's books are in.
        credit_sync.record(loan=locked, kind=CreditRecord.Kind.RETURN)
    return locked


def _pay_unpaid_at_desk(actor: Actor, library: Library, loan: Loan) -> Loan:
    """The part of a compensation the provider could not charge (above the credit order's
    deposit) is paid at the desk: the loan owes nothing more. One event row, audited."""
    unpaid = loan.compensation_unpaid_fen
    loan.compensation_unpaid_fen = 0
    loan.save(update_fields=["compensation_unpaid_fen", "updated_at"])
    record_transition(
        LoanEvent,
        loan=loan,
        actor=actor,
        note="unpaid_paid",
        audit=Audit(
            "loan.compensation_unpaid_paid",
            library_code=library.code,
            detail={
                "loan": loan.pk,
                "paid_fen": unpaid,
                "charged_fen": loan.compensation_charged_fen,
            },
        ),
    )
    return loan


def pay_compensation_through_provider(*, actor: Actor, reader, loan: Loan) -> str:
    """The reader asks, on 我的赔偿, for a lost book's deduction now: its charge row is sent to
    the provider at once (a deduction the worker gave up on starts again). The provider call is
    made after this service's transaction, like every credit call. Returns ``charged``,
    ``waiting`` (the order's other books are still out: the last return completes the order with
    the charge) or ``failed`` (the worker keeps retrying; the desk takes payment meanwhile)."""
    require_reader(actor, reader.pk, Action.ORDER_BOOKS)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().filter(pk=loan.pk, reader=reader).first()
        if locked is None:
            raise LoanNotFound()
        if locked.status != Loan.Status.LOST:
            raise CompensationNotDue(status=locked.status)
        row = (
            CreditRecord.objects.select_for_update()
            .filter(loan=locked, kind=CreditRecord.Kind.CHARGE)
            .first()
        )
        if row is None or row.state == CreditRecord.State.CANCELLED:
            raise CompensationNotDue(status="no_credit_order")
        if row.state == CreditRecord.State.FAILED:
            row.state = CreditRecord.State.PENDING
            row.save(update_fields=["state", "updated_at"])
    credit_sync.send_credit_record(record_id=row.pk)
    locked.refresh_from_db()
    row.refresh_from_db()
    if locked.status == Loan.Status.SETTLED:
        return "charged"
    if row.last_error.startswith("waiting"):
        return "waiting"
    return "failed"


def refund_compensation_at_desk(*, actor: Actor, library: Library, loan: Loan) -> Loan:
    """A desk gives a found book's compensation back to the reader (recorded as due when the
    book was checked in, see ``desk._owe_refund``): recorded once; a second call is refused."""
    require(actor, Action.CIRCULATE, library_id=library.pk)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().select_related("library").get(pk=loan.pk)
        if locked.refunded_at is not None:
            raise RefundNotDue(status="refunded")
        if not locked.refund_due_fen:
            raise RefundNotDue(status="none")
        locked.refunded_at = clock.now()
        locked.save(update_fields=["refunded_at", "updated_at"])
        record_transition(
            LoanEvent,
            loan=locked,
            actor=actor,
            note="refunded",
            audit=Audit(
                "loan.compensation_refunded",
                library_code=library.code,
                detail={"loan": locked.pk, "refund_fen": locked.refund_due_fen},
            ),
        )
    return locked


def run_daily(*, today: dt.date | None = None) -> dict[str, int]:
    """The daily job body (see the module's docstring). Returns what it did, by kind."""
    today = today or clock.today()
    done = {"reminded_before": 0, "reminded_after": 0, "overdue": 0, "lost": 0}
    loans = (
        Loan.objects.filter(
            status=Loan.Status.ON_LOAN, due_on__lte=today + dt.timedelta(days=LOOK_AHEAD_DAYS)
        )
        .select_related("item", "library", "reader")
        .order_by("due_on", "id")
    )
    for loan in loans.iterator(chunk_size=500):
        rule = selectors.rule_for_loan(loan).rule
        days = (today - loan.due_on).days
        if days > 0 and days >= rule.lost_after_days:
            declare_lost(actor=SYSTEM, loan=loan)
            done["lost"] += 1
            continue
        with transaction.atomic():
            if -rule.remind_days_before <= days <= 0 and _remind(loan, REMINDER_BEFORE):
                done["reminded_before"] += 1
            if days > 0 and _remind(loan, REMINDER_AFTER):
                done["reminded_after"] += 1
                if credit_sync.record(loan=loan, kind=CreditRecord.Kind.OVERDUE):
                    done["overdue"] += 1
    return done
