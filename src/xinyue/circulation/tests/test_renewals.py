"""Renewals: within the rule's renewals, a grace for a few days overdue, refusals with the
reason that change nothing, and the provider's credit order extended once."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation.errors import RenewalRefused
from xinyue.circulation.models import CirculationRule, Loan, LoanEvent
from xinyue.circulation.services import check_in, renew_loan
from xinyue.circulation.services.credit_sync import due_at
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.core import clock
from xinyue.core.errors import PermissionDenied
from xinyue.credit.models import CreditOrder
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def platform_rule(**values) -> CirculationRule:
    fields = {
        "program": "platform",
        "loan_days": 30,
        "renewals": 1,
        "renewal_grace_days": 5,
        "max_open_loans": 5,
        "compensation_factor_permille": 1000,
        "compensation_fee_fen": 0,
    }
    return CirculationRule.objects.create(**{**fields, **values})


def state(loan: Loan) -> tuple:
    loan.refresh_from_db()
    credit = CreditOrder.objects.get()
    return (loan.due_on, loan.renewals, LoanEvent.objects.count(), credit.due_at, credit.state)


def test_a_renewal_extends_the_loan_and_the_credit_order(platform_loans, platform_reader):
    platform_rule(renewals=2)
    loan = platform_loans[0]
    credit = CreditOrder.objects.get()
    old_due, old_credit_due = loan.due_on, credit.due_at
    renewed = renew_loan(actor=reader_actor(platform_reader), loan=loan)
    assert (renewed.renewals, renewed.due_on) == (1, old_due + dt.timedelta(days=30))
    assert CreditOrder.objects.get().due_at == old_credit_due  # the worker sends it
    assert (f"loan:{loan.pk}:renew:1", "sent") in work_outbox()
    credit.refresh_from_db()
    assert credit.due_at == due_at(renewed.due_on) > old_credit_due
    assert (credit.state, credit.pending_op) == ("borrowed", "")
    # the provider's gateway holds the new time too
    from xinyue.credit.sandbox.models import SandboxOrder

    assert SandboxOrder.objects.get(out_order_no=credit.out_order_no).expiry_time == credit.due_at


def test_renewals_are_refused_with_the_reason_and_change_nothing(
    platform_loans, platform_reader, hz_desk
):
    platform_rule(renewals=1, renewal_grace_days=5)
    first, second = platform_loans
    reader = reader_actor(platform_reader)
    renew_loan(actor=reader, loan=first)
    before = state(first)
    with pytest.raises(RenewalRefused) as limit:
        renew_loan(actor=reader, loan=first)
    assert limit.value.detail == {"reason": "limit", "renewals": 1, "allowed": 1}
    assert state(first) == before

    # six days overdue with five grace days: refused; four days: still renewable
    Loan.objects.filter(pk=second.pk).update(due_on=clock.today() - dt.timedelta(days=6))
    before = state(second)
    with pytest.raises(RenewalRefused) as overdue:
        renew_loan(actor=reader, loan=second)
    assert overdue.value.detail == {"reason": "overdue", "overdue_days": 6, "grace_days": 5}
    assert "逾期 6 天" in overdue.value.message
    assert state(second) == before
    Loan.objects.filter(pk=second.pk).update(due_on=clock.today() - dt.timedelta(days=4))
    renewed = renew_loan(actor=reader, loan=second)
    assert renewed.due_on == clock.today() + dt.timedelta(days=30)

    Loan.objects.filter(pk=first.pk).update(status="lost")
    with pytest.raises(RenewalRefused) as lost:
        renew_loan(actor=reader, loan=first)
    assert lost.value.detail == {"reason": "lost"}


def test_a_returned_loan_is_not_renewed_and_others_cannot_renew(
    platform_loans, platform_reader, bob, nb_admin, hangzhou, hz_desk
):
    loan = platform_loans[0]
    with pytest.raises(PermissionDenied):
        renew_loan(actor=reader_actor(bob), loan=loan)
    with pytest.raises(PermissionDenied):  # the reader holds no card at 宁波
        renew_loan(actor=nb_admin, loan=loan)
    assert renew_loan(actor=hz_desk, loan=loan).renewals == 1  # a card at 杭州: its desk may
    check_in(actor=hz_desk, library=hangzhou, barcode=loan.item.barcode)
    with pytest.raises(RenewalRefused) as returned:
        renew_loan(actor=reader_actor(platform_reader), loan=loan)
    assert returned.value.detail == {"reason": "not_on_loan"}
