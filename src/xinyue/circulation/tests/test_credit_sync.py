"""What loans owe their credit order reaches the provider once, through outages: a renewal whose
extension is still pending when the books come back, the completion retried by the
``sync_loan_credit`` task, never a second completion."""

from __future__ import annotations

import pytest

from xinyue.circulation.models import Loan
from xinyue.circulation.services import check_in, renew_loan
from xinyue.circulation.services.credit_sync import sync_loan_credit
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxFault, SandboxOrder
from xinyue.credit.services.orders import retry_pending_operation
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def test_a_completion_refused_while_an_extension_is_pending_is_retried_once(
    platform_loans, platform_reader, hangzhou, hz_desk
):
    first, second = platform_loans
    SandboxFault.objects.create(kind="unavailable", method="zhima.merchant.order.rent.modify")
    renew_loan(actor=reader_actor(platform_reader), loan=first)
    credit = CreditOrder.objects.get()
    assert (credit.pending_op, credit.state) == ("extend", "borrowed")
    assert Loan.objects.get(pk=first.pk).renewals == 1  # the renewal itself stands

    check_in(actor=hz_desk, library=hangzhou, barcode=first.item.barcode)
    result = check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    assert result.loan.status == "returned"  # the return never waits for the provider
    owed = Loan.objects.get(pk=second.pk)
    assert (owed.credit_sync, owed.credit_attempts) == ("complete", 1)
    assert CreditOrder.objects.get().state == "borrowed"

    # the provider is back: the credit order finishes its extension, then the task body runs
    SandboxFault.objects.all().delete()
    assert retry_pending_operation(order_id=credit.pk) is None
    assert sync_loan_credit(loan_id=second.pk) is None
    credit.refresh_from_db()
    assert (credit.state, credit.pending_op) == ("returned", "")
    assert Loan.objects.get(pk=second.pk).credit_sync == ""
    sandbox = SandboxOrder.objects.get(out_order_no=credit.out_order_no)
    assert sandbox.use_state == "restore"
    # a retry arriving late, and a kiosk repeating the check-in, change nothing
    completed = credit.events.filter(to_state="returned").count()
    assert sync_loan_credit(loan_id=second.pk) is None
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    assert credit.events.filter(to_state="returned").count() == completed == 1


def test_a_provider_outage_at_the_return_leaves_the_credit_order_to_finish_itself(
    platform_loans, hangzhou, hz_desk
):
    SandboxFault.objects.create(kind="unavailable", method="zhima.merchant.order.rent.complete")
    for loan in platform_loans:
        check_in(actor=hz_desk, library=hangzhou, barcode=loan.item.barcode)
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op) == ("borrowed", "complete")
    assert credit.last_error
    SandboxFault.objects.all().delete()
    assert retry_pending_operation(order_id=credit.pk) is None
    credit.refresh_from_db()
    assert (credit.state, credit.pending_op) == ("returned", "")
