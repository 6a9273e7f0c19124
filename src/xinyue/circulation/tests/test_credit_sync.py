"""The credit outbox: every borrow, renewal and return of a loan with a credit order is one row,
sent by the worker until the provider has it — through outages, and never twice."""

from __future__ import annotations

import pytest

from xinyue.circulation.models import CreditRecord, Loan
from xinyue.circulation.services import check_in, renew_loan
from xinyue.circulation.services.credit_sync import send_credit_record
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxFault, SandboxOrder
from xinyue.credit.services.orders import retry_pending_operation
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def test_a_completion_waiting_for_a_pending_extension_is_sent_once(
    platform_loans, platform_reader, hangzhou, hz_desk
):
    first, second = platform_loans
    SandboxFault.objects.create(kind="unavailable", method="zhima.merchant.order.rent.modify")
    renew_loan(actor=reader_actor(platform_reader), loan=first)
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.pending_op, credit.state) == ("extend", "borrowed")
    assert Loan.objects.get(pk=first.pk).renewals == 1  # the renewal itself stands

    check_in(actor=hz_desk, library=hangzhou, barcode=first.item.barcode)
    result = check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    assert result.loan.status == "returned"  # the return never waits for the provider
    work_outbox()
    owed = CreditRecord.objects.get(key=f"loan:{second.pk}:return")
    assert (owed.state, owed.attempts, owed.last_error) == (
        "pending",
        1,
        "credit order busy: extend",
    )
    assert CreditOrder.objects.get().state == "borrowed"

    # the provider is back: the credit order finishes its extension, then the worker's retry
    SandboxFault.objects.all().delete()
    assert retry_pending_operation(order_id=credit.pk) is None
    assert send_credit_record(record_id=owed.pk) is None
    credit.refresh_from_db()
    assert (credit.state, credit.pending_op) == ("returned", "")
    assert CreditRecord.objects.get(pk=owed.pk).state == "sent"
    assert SandboxOrder.objects.get(out_order_no=credit.out_order_no).use_state == "restore"
    # a retry arriving late, and a kiosk repeating the check-in, change nothing
    completed = credit.events.filter(to_state="returned").count()
    assert send_credit_record(record_id=owed.pk) is None
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    work_outbox()
    assert credit.events.filter(to_state="returned").count() == completed == 1
    assert CreditRecord.objects.filter(kind="return").count() == 2


def test_a_provider_outage_at_the_return_leaves_the_credit_order_to_finish_itself(
    platform_loans, hangzhou, hz_desk
):
    SandboxFault.objects.create(kind="unavailable", method="zhima.merchant.order.rent.complete")
    for loan in platform_loans:
        check_in(actor=hz_desk, library=hangzhou, barcode=loan.item.barcode)
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op) == ("borrowed", "complete")
    assert credit.last_error
    SandboxFault.objects.all().delete()
    assert retry_pending_operation(order_id=credit.pk) is None
    credit.refresh_from_db()
    assert (credit.state, credit.pending_op) == ("returned", "")
