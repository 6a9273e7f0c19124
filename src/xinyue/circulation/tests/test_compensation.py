"""Compensation above the credit order's deposit (the provider charges up to the deposit once;
the rest is owed at a desk and blocks loans and renewals until paid), and the state "waits for
the order's other books" on 我的赔偿 until they are returned or lost."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation import selectors
from xinyue.circulation.errors import CompensationNotDue, ReaderBlocked
from xinyue.circulation.models import CreditRecord, Loan, LoanEvent
from xinyue.circulation.services import check_in, check_out, renew_loan
from xinyue.circulation.services.credit_sync import send_credit_record
from xinyue.circulation.services.overdue import (
    pay_compensation_through_provider,
    run_daily,
)
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db

UNPAID_TEXT = (
    "遗失赔偿超出信用押金上限，信用服务方扣款后仍欠 20.00 元，到任一成员馆服务台缴纳后可继续借阅"
)


def test_the_provider_charges_up_to_the_deposit_once_and_the_rest_is_owed_at_a_desk(
    capped, platform_reader, hangzhou, hz_desk, hz_key_client, client
):
    lost, kept = capped
    assert lost.compensation_fen == 5000
    work_outbox()
    credit = CreditOrder.objects.get(reference=lost.credit_reference)
    assert (credit.state, credit.charge_fen, credit.charged_fen) == ("charged", 3000, 3000)
    sandbox = SandboxOrder.objects.get(out_order_no=credit.out_order_no)
    assert (sandbox.pay_amount_fen, sandbox.deduction_attempts) == (3000, 1)
    settled = Loan.objects.get(pk=lost.pk)
    assert (
        settled.status,
        settled.settled_by,
        settled.compensation_charged_fen,
        settled.compensation_unpaid_fen,
    ) == ("settled", "provider", 3000, 2000)

    # a retry (the worker, the reader's button) never charges again nor changes the rest owed
    send_credit_record(record_id=CreditRecord.objects.get(loan=lost, kind="charge").pk)
    with pytest.raises(CompensationNotDue):
        pay_compensation_through_provider(
            actor=reader_actor(platform_reader), reader=platform_reader, loan=lost
        )
    work_outbox()
    sandbox.refresh_from_db()
    assert (sandbox.pay_amount_fen, sandbox.deduction_attempts) == (3000, 1)
    assert CreditOrder.objects.get(pk=credit.pk).charged_fen == 3000
    assert Loan.objects.get(pk=lost.pk).compensation_unpaid_fen == 2000
    assert LoanEvent.objects.filter(loan=lost, to_state="settled").count() == 1

    # blocked: no new loan, no renewal; the reason says what clears it
    blocks = selectors.reader_blocks(platform_reader)
    assert [b.as_dict() for b in blocks] == [
        {"code": "compensation_unpaid", "message": UNPAID_TEXT}
    ]
    assert selectors.compensation_owed_fen(platform_reader) == 2000
    with pytest.raises(ReaderBlocked) as renewal:
        renew_loan(actor=reader_actor(platform_reader), loan=kept)
    assert renewal.value.detail["blocks"][0]["code"] == "compensation_unpaid"
    item = ItemFactory(owning_library=hangzhou, current_library=hangzhou)
    with pytest.raises(ReaderBlocked):
        check_out(actor=hz_desk, library=hangzhou, reader=platform_reader, barcode=item.barcode)
    assert Loan.objects.get(pk=kept.pk).renewals == 0

    # the reader sees it on 我的赔偿 and in the API
    client.force_login(platform_reader.user)
    page = client.get("/compensation/").content.decode()
    assert f'id="bill-{lost.pk}" data-state="unpaid"' in page
    assert "信用服务方已扣款 30.00 元（以订单押金为上限），尚欠 20.00 元" in page
    assert f'id="pay-{lost.pk}"' not in page  # the provider cannot take more: a desk does
    answer = client.get("/api/v1/loans").json()
    row = next(loan for loan in answer["items"] if loan["id"] == lost.pk)
    assert (
        row["compensation_fen"],
        row["compensation_charged_fen"],
        row["compensation_unpaid_fen"],
    ) == (5000, 3000, 2000)
    assert answer["blocks"] == [{"code": "compensation_unpaid", "message": UNPAID_TEXT}]

    # paid at a desk: one event row, audited; the reader may borrow and renew again
    paid = hz_key_client.post(
        f"/api/v1/desk/loans/{lost.pk}/compensation", {}, content_type="application/json"
    )
    assert paid.status_code == 200, paid.content
    assert (paid.json()["status"], paid.json()["compensation_unpaid_fen"]) == ("settled", 0)
    assert LoanEvent.objects.filter(loan=lost, note="unpaid_paid").count() == 1
    audit = AuditEntry.objects.get(action="loan.compensation_unpaid_paid")
    assert (audit.detail["paid_fen"], audit.detail["charged_fen"]) == (2000, 3000)
    assert selectors.reader_blocks(platform_reader) == []
    again = hz_key_client.post(
        f"/api/v1/desk/loans/{lost.pk}/compensation", {}, content_type="application/json"
    )
    assert (again.status_code, again.json()["code"]) == (409, "compensation_not_due")
    assert AuditEntry.objects.filter(action="loan.compensation_unpaid_paid").count() == 1
    assert renew_loan(actor=reader_actor(platform_reader), loan=kept).renewals == 1
    page = client.get("/compensation/").content.decode()
    assert f'id="bill-{lost.pk}" data-state="charged"' in page
    assert "信用服务方已扣款 30.00 元，其余已在服务台缴纳" in page
    assert SandboxOrder.objects.get(pk=sandbox.pk).deduction_attempts == 1


def test_a_book_found_with_compensation_unpaid_owes_back_only_what_was_charged(
    capped, platform_reader, ningbo, nb_admin
):
    lost, _kept = capped
    work_outbox()
    result = check_in(actor=nb_admin, library=ningbo, barcode=lost.item.barcode)
    assert "退还赔偿款 30.00 元" in result.message
    found = Loan.objects.get(pk=lost.pk)
    assert (found.refund_due_fen, found.compensation_unpaid_fen) == (3000, 0)
    assert selectors.reader_blocks(platform_reader) == []
    audit = AuditEntry.objects.get(action="loan.refund_due")
    assert (audit.detail["refund_fen"], audit.detail["unpaid_cancelled_fen"]) == (3000, 2000)


@pytest.mark.parametrize("other", ["returned", "lost"])
def test_a_charge_waits_on_my_compensation_for_the_orders_other_books(
    other, platform_rule, platform_loans, platform_reader, hangzhou, hz_desk, client
):
    """One credit order backs both books, and the provider completes an order once: the lost
    book's bill says it waits until the other book is returned (the charge is 51.50 元) or lost
    too (both compensations, 51.50 + 53.00 元, capped at the deposit 31.00 + 32.00 元)."""
    first, second = platform_loans
    Loan.objects.filter(pk=second.pk).update(due_on=first.due_on + dt.timedelta(days=10))
    run_daily(today=first.due_on + dt.timedelta(days=30))
    client.force_login(platform_reader.user)
    page = client.get("/compensation/").content.decode()
    # not yet sent: due; the worker (or the reader's button) finds the other book out
    assert f'id="bill-{first.pk}" data-state="due"' in page
    answer = client.post("/compensation/", {"loan": first.pk}, follow=True).content.decode()
    assert "同一订单的其他图书归还后，信用服务方会一并扣款" in answer
    assert f'id="bill-{first.pk}" data-state="waiting"' in answer
    assert "同一订单的其他图书归还后，信用服务方一并扣款" in answer
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charged_fen) == ("borrowed", 0)
    assert SandboxOrder.objects.get().deduction_attempts == 0
    assert CreditRecord.objects.get(loan=first, kind="charge").state == "pending"

    if other == "returned":
        check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
        expected = {first.pk: (5150, 0)}
        charged = 5150
    else:
        run_daily(today=first.due_on + dt.timedelta(days=40))
        expected = {first.pk: (5150, 0), second.pk: (1150, 5300 - 1150)}
        charged = 6300
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.deposit_fen, credit.charged_fen) == ("charged", 6300, charged)
    assert SandboxOrder.objects.get().deduction_attempts == 1
    assert {
        loan.pk: (loan.compensation_charged_fen, loan.compensation_unpaid_fen)
        for loan in Loan.objects.filter(status="settled")
    } == expected
    page = client.get("/compensation/").content.decode()
    assert f'id="bill-{first.pk}" data-state="charged"' in page
    if other == "lost":
        assert f'id="bill-{second.pk}" data-state="unpaid"' in page
        assert "尚欠 41.50 元" in page
    work_outbox()
    assert SandboxOrder.objects.get().deduction_attempts == 1  # once
