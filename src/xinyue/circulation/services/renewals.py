"""Renewals (续借) within the circulation rules.

A loan may be renewed while renewals are left under its rule. A loan a few days overdue can still
be renewed within the rule's grace days instead of a hard block; beyond them, or when the book is
lost, the renewal is refused with the reason. The new due date counts the rule's loan days from
the later of today and the old due date. A platform loan's credit order is extended at the
provider after the commit (``credit_sync``), never inside the transaction.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.circulation import selectors
from xinyue.circulation.errors import ReaderBlocked, RenewalRefused
from xinyue.circulation.models import CreditRecord, Loan, LoanEvent
from xinyue.circulation.services import credit_sync
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require_reader


def renew_loan(*, actor: Actor, loan: Loan) -> Loan:
    """Renew ``loan`` by the reader themself, staff of a library where the reader holds a card,
    or the operator. Refused with ``renewal_refused`` (``detail.reason``: ``limit``, ``overdue``,
    ``lost``, ``not_on_loan``) or ``reader_blocked``; nothing changes then."""
    require_reader(actor, loan.reader_id, Action.RENEW_LOAN, message=_("只能续借本人的图书"))
    with transaction.atomic():
        locked = (
            Loan.objects.select_for_update()
            .select_related("item", "library", "reader")
            .get(pk=loan.pk)
        )
        if locked.status == Loan.Status.LOST:
            raise RenewalRefused(
                _("这册书已登记遗失，不能续借；找回后请归还，或办理赔付"), reason="lost"
            )
        if locked.status != Loan.Status.ON_LOAN:
            raise RenewalRefused(_("这册书已归还，无需续借"), reason="not_on_loan")
        rule = selectors.rule_for_loan(locked).rule
        if locked.renewals >= rule.renewals:
            raise RenewalRefused(
                _("已续借 %(n)s 次，达到续借次数上限，请按期归还") % {"n": locked.renewals},
                reason="limit",
                renewals=locked.renewals,
                allowed=rule.renewals,
            )
        today = clock.today()
        overdue_days = (today - locked.due_on).days
        if overdue_days > rule.renewal_grace_days:
            raise RenewalRefused(
                _("已逾期 %(days)s 天，超过可续借的 %(grace)s 天，请尽快归还")
                % {"days": overdue_days, "grace": rule.renewal_grace_days},
                reason="overdue",
                overdue_days=overdue_days,
                grace_days=rule.renewal_grace_days,
            )
        blocks = selectors.reader_blocks(locked.reader, ignoring_loan=locked)
        if blocks:
            raise ReaderBlocked(blocks[0].message, blocks=[block.as_dict() for block in blocks])
        before_due = locked.due_on
        locked.due_on = max(today, locked.due_on) + dt.timedelta(days=rule.loan_days)
        locked.renewals += 1
        locked.save()
        credit_sync.record(loan=locked, kind=CreditRecord.Kind.RENEW, suffix=str(locked.renewals))
        record_transition(
            LoanEvent,
            loan=locked,
            actor=actor,
            from_state=Loan.Status.ON_LOAN,
            to_state=Loan.Status.ON_LOAN,
            note=f"renewed {before_due.isoformat()}→{locked.due_on.isoformat()}",
            audit=Audit(
                "loan.renewed",
                library_code=locked.library.code,
                detail={
                    "barcode": locked.item.barcode,
                    "from_due_on": before_due.isoformat(),
                    "due_on": locked.due_on.isoformat(),
                },
            ),
        )
    return locked
