"""The reader's credit record: disputes and the library's answer.

A reader disputes one row sent to the provider about them (a reason); the dispute reaches the
library that lent the book (the operator for platform loans) on its console list. The library
rejects it (with an answer) or corrects it: for a loan still open, a corrected due date moves the
loan and, through a ``correction`` outbox row, the provider's latest return time (``rent.modify``,
never earlier: that is what the provider can correct); the answer is kept on the row and audited.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.circulation.errors import CreditRecordNotFound, DisputeState
from xinyue.circulation.models import CreditRecord, Loan, LoanEvent
from xinyue.circulation.services import credit_sync
from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require, require_reader

REASON_MAX = 500


def _clean_text(value: str, field: str) -> str:
    text = " ".join((value or "").split())
    if not 2 <= len(text) <= REASON_MAX:
        raise InvalidInput(fields={field: _("请填写 2–500 字的说明")})
    return text


def dispute_record(*, actor: Actor, reader, record_id: int, reason: str) -> CreditRecord:
    """The reader disputes one of their records (once; a row answered may not be reopened)."""
    require_reader(actor, reader.pk, Action.DISPUTE_CREDIT_RECORD)
    reason = _clean_text(reason, "reason")
    with transaction.atomic():
        row = (
            CreditRecord.objects.select_for_update(of=("self",))
            .filter(pk=record_id, reader=reader)
            .select_related("library")
            .first()
        )
        if row is None:
            raise CreditRecordNotFound()
        if row.dispute:
            raise DisputeState(dispute=row.dispute)
        row.dispute = CreditRecord.Dispute.OPEN
        row.dispute_reason = reason
        row.disputed_at = clock.now()
        row.save(update_fields=["dispute", "dispute_reason", "disputed_at", "updated_at"])
        audit.record(
            actor=actor,
            action="credit_record.disputed",
            obj=row,
            library_code=row.library.code,
            kind=row.kind,
        )
    return row


def answer_dispute(
    *,
    actor: Actor,
    record_id: int,
    correct: bool,
    answer: str,
    due_on: dt.date | None = None,
) -> CreditRecord:
    """The library answers an open dispute: corrected (optionally a later due date for an open
    loan, sent to the provider) or rejected. Audited with the answer."""
    answer = _clean_text(answer, "answer")
    with transaction.atomic():
        row = (
            CreditRecord.objects.select_for_update(of=("self",))
            .filter(pk=record_id)
            .select_related("library", "loan")
            .first()
        )
        if row is None or row.loan is None:
            raise CreditRecordNotFound()
        record_loan: Loan = row.loan  # every disputable record is about a loan
        require(actor, Action.ANSWER_CREDIT_DISPUTE, library_id=row.library_id)
        if row.dispute != CreditRecord.Dispute.OPEN:
            raise DisputeState(dispute=row.dispute)
        if due_on is not None:
            if not correct:
                raise InvalidInput(fields={"due_on": _("驳回异议时不能更改应还日期")})
            loan = Loan.objects.select_for_update().filter(pk=record_loan.pk).first()
            if loan is None or loan.status != Loan.Status.ON_LOAN:
                raise InvalidInput(fields={"due_on": _("只有借阅中的图书可以更正应还日期")})
            if due_on <= loan.due_on:
                raise InvalidInput(fields={"due_on": _("更正后的应还日期应晚于原应还日期")})
            before = loan.due_on
            loan.due_on = due_on
            loan.save(update_fields=["due_on", "updated_at"])
            record_transition(
                LoanEvent,
                loan=loan,
                actor=actor,
                from_state=loan.status,
                to_state=loan.status,
                note=f"corrected {before.isoformat()}→{due_on.isoformat()}",
            )
            credit_sync.record(loan=loan, kind=CreditRecord.Kind.CORRECTION, suffix=str(row.pk))
        row.dispute = CreditRecord.Dispute.CORRECTED if correct else CreditRecord.Dispute.REJECTED
        row.dispute_answer = answer
        row.answered_at = clock.now()
        row.save(update_fields=["dispute", "dispute_answer", "answered_at", "updated_at"])
        record_transition(
            LoanEvent,
            loan=record_loan,
            actor=actor,
            from_state=record_loan.status,
            to_state=record_loan.status,
            note=f"dispute {row.pk} {row.dispute}",
            audit=Audit(
                "credit_record.answered",
                library_code=row.library.code,
                detail={
                    "record": row.pk,
                    "kind": row.kind,
                    "dispute": row.dispute,
                    "due_on": due_on.isoformat() if due_on else "",
                },
            ),
        )
    return row
