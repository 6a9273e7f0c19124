"""The daily job on exact dates (reminders, overdue report, lost), compensation charged once
through the sandbox provider (a failed deduction retried), paid at a desk, a lost book found
before and after the charge, and the blocks that stop loans and renewals but never returns."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation import selectors
from xinyue.circulation.errors import CompensationNotDue, ReaderBlocked, RefundNotDue
from xinyue.circulation.models import CreditRecord, Item, Loan, LoanEvent
from xinyue.circulation.services import check_in, check_out, renew_loan
from xinyue.circulation.services.credit_sync import send_credit_record
from xinyue.circulation.services.overdue import (
    pay_compensation_at_desk,
    refund_compensation_at_desk,
    run_daily,
)
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.readers.models import Message
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def notes(loan: Loan) -> list[str]:
    return list(
        LoanEvent.objects.filter(loan=loan, note__startswith="reminder").values_list(
            "note", flat=True
        )
    )


def test_the_daily_job_on_exact_dates(platform_rule, platform_loans, hangzhou, hz_desk):
    first, second = platform_loans
    due = first.due_on
    Loan.objects.filter(pk=second.pk).update(due_on=due + dt.timedelta(days=10))
    day = lambda n: due + dt.timedelta(days=n)  # noqa: E731

    assert run_daily(today=day(-4)) == {
        "reminded_before": 0,
        "reminded_after": 0,
        "overdue": 0,
        "lost": 0,
    }
    assert run_daily(today=day(-3))["reminded_before"] == 1
    assert run_daily(today=day(-3))["reminded_before"] == 0  # twice a day: once
    assert notes(first) == ["reminder:before"]
    assert run_daily(today=day(0)) == {
        "reminded_before": 0,
        "reminded_after": 0,
        "overdue": 0,
        "lost": 0,
    }
    assert run_daily(today=day(1)) == {
        "reminded_before": 0,
        "reminded_after": 1,
        "overdue": 1,
        "lost": 0,
    }
    assert notes(first) == ["reminder:before", "reminder:after"]
    assert list(
        Message.objects.filter(reader=first.reader_id, kind__startswith="reminder")
        .order_by("id")
        .values_list("kind", "subject")
    ) == [("reminder:before", "借阅即将到期"), ("reminder:after", "借阅已逾期")]
    assert CreditRecord.objects.filter(kind="overdue").count() == 1
    assert run_daily(today=day(2))["overdue"] == 0
    # the second book's reminder came on its own day (due + 10 − 3), caught up if a day is missed
    assert notes(Loan.objects.get(pk=second.pk)) == []
    assert run_daily(today=day(9))["reminded_before"] == 1
    assert run_daily(today=day(29))["lost"] == 0
    assert Loan.objects.get(pk=first.pk).status == "on_loan"
    assert run_daily(today=day(30))["lost"] == 1
    lost = Loan.objects.get(pk=first.pk)
    assert (lost.status, lost.compensation_fen) == ("lost", 3100 * 3 // 2 + 500)
    assert Item.objects.get(pk=first.item_id).status == "lost"
    assert AuditEntry.objects.filter(action="loan.lost").count() == 1
    assert run_daily(today=day(31))["lost"] == 0

    # the charge waits for the order's other book; its return completes the order with it
    assert (f"loan:{first.pk}:charge", "pending") in work_outbox()
    assert CreditOrder.objects.get().state == "borrowed"
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    outbox = dict(work_outbox())
    assert outbox[f"loan:{first.pk}:charge"] == outbox[f"loan:{second.pk}:return"] == "sent"
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charge_fen, credit.charged_fen) == ("charged", 5150, 5150)
    sandbox = SandboxOrder.objects.get(out_order_no=credit.out_order_no)
    assert (sandbox.pay_amount_type, sandbox.pay_amount_fen, sandbox.deduction_attempts) == (
        "DAMAGE",
        5150,
        1,
    )
    settled = Loan.objects.get(pk=first.pk)
    assert (settled.status, settled.settled_by) == ("settled", "provider")
    assert selectors.reader_blocks(settled.reader) == []


def test_a_failed_deduction_is_retried_and_charged_once(
    platform_rule, platform_loans, hangzhou, hz_desk, client, operator_user
):
    first, second = platform_loans
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    work_outbox()  # the first book is still out: the order stays open
    client.force_login(operator_user)
    fault = client.post(
        "/sandbox/zhima/control/faults",
        {"kind": "failed_deduction", "times": 1},
        content_type="application/json",
    )
    assert fault.status_code == 201, fault.content
    run_daily(today=first.due_on + dt.timedelta(days=30))
    work_outbox()
    charge = CreditRecord.objects.get(kind="charge")
    assert (charge.state, charge.attempts, charge.last_error) == (
        "pending",
        1,
        "deduction charge_failed",
    )
    assert CreditOrder.objects.get().state == "charge_failed"
    reader = Loan.objects.get(pk=first.pk).reader
    assert [b.code for b in selectors.reader_blocks(reader)] == ["lost_items"]

    # the worker's retry: charged, once; a late repeat changes nothing
    work_outbox()
    send_credit_record(record_id=charge.pk)
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charged_fen) == ("charged", 5150)
    sandbox = SandboxOrder.objects.get(out_order_no=credit.out_order_no)
    assert (sandbox.pay_status, sandbox.pay_amount_fen, sandbox.deduction_attempts) == (
        "PAY_SUCCESS",
        5150,
        2,
    )
    assert CreditRecord.objects.get(kind="charge").state == "sent"
    assert credit.events.filter(to_state="charged").count() == 1
    assert Loan.objects.get(pk=first.pk).status == "settled"


def test_a_lost_book_found_before_the_charge_is_a_late_return(
    platform_rule, platform_loans, hangzhou, ningbo, nb_admin
):
    first, second = platform_loans
    run_daily(today=first.due_on + dt.timedelta(days=30))  # both lost
    assert Loan.objects.filter(status="lost").count() == 2
    result = check_in(actor=nb_admin, library=ningbo, barcode=first.item.barcode)
    assert (result.loan.status, result.transferred) == ("returned", True)
    assert Loan.objects.get(pk=first.pk).compensation_fen == 0
    assert CreditRecord.objects.get(key=f"loan:{first.pk}:charge").state == "cancelled"
    check_in(actor=nb_admin, library=ningbo, barcode=second.item.barcode)
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charge_fen, credit.charged_fen) == ("returned", 0, 0)
    assert SandboxOrder.objects.get().deduction_attempts == 1  # one completion, no money


def test_a_lost_book_found_after_the_charge_joins_the_shelf_without_a_second_charge(
    platform_rule, platform_loans, hangzhou, ningbo, hz_desk, nb_admin
):
    first, second = platform_loans
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    run_daily(today=first.due_on + dt.timedelta(days=30))
    work_outbox()
    assert CreditOrder.objects.get().state == "charged"
    result = check_in(actor=nb_admin, library=ningbo, barcode=first.item.barcode)
    assert result.loan.status == "settled"
    assert "已赔付" in result.message
    item = Item.objects.get(pk=first.item_id)
    assert (item.status, item.owning_library_id, item.current_library_id) == (
        "available",
        ningbo.pk,
        ningbo.pk,
    )
    work_outbox()
    assert CreditOrder.objects.get().charged_fen == 5150
    assert SandboxOrder.objects.get().deduction_attempts == 1
    assert AuditEntry.objects.filter(action="item.found").count() == 1
    # The rule: no provider we speak can refund a completed deduction, so the 51.50 元 are owed
    # back at a desk — recorded once, said on the check-in, refunded once.
    assert "请在服务台向读者退还赔偿款 51.50 元" in result.message
    found = Loan.objects.get(pk=first.pk)
    assert (found.refund_due_fen, found.refunded_at) == (5150, None)
    again = check_in(actor=nb_admin, library=ningbo, barcode=first.item.barcode)
    assert "退还" not in again.message
    assert AuditEntry.objects.filter(action="loan.refund_due").count() == 1
    refunded = refund_compensation_at_desk(actor=nb_admin, library=ningbo, loan=found)
    assert refunded.refunded_at is not None
    with pytest.raises(RefundNotDue) as twice:
        refund_compensation_at_desk(actor=nb_admin, library=ningbo, loan=found)
    assert twice.value.detail == {"status": "refunded"}
    assert AuditEntry.objects.filter(action="loan.compensation_refunded").count() == 1
    assert SandboxOrder.objects.get().pay_amount_fen == 5150  # the provider was not asked again


def test_a_book_paid_for_at_a_desk_and_found_is_refunded_at_a_desk_over_the_api(
    platform_rule, platform_loans, hangzhou, hz_desk, hz_key_client
):
    first, second = platform_loans
    run_daily(today=first.due_on + dt.timedelta(days=30))
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    not_due = hz_key_client.post(
        f"/api/v1/desk/loans/{second.pk}/refund", {}, content_type="application/json"
    )
    assert (not_due.status_code, not_due.json()["code"]) == (409, "refund_not_due")
    assert not_due.json()["detail"] == {"status": "none"}
    pay_compensation_at_desk(actor=hz_desk, library=hangzhou, loan=first)
    result = check_in(actor=hz_desk, library=hangzhou, barcode=first.item.barcode)
    assert "退还赔偿款 51.50 元" in result.message
    answer = hz_key_client.post(
        f"/api/v1/desk/loans/{first.pk}/refund", {}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    assert answer.json()["refund_due_fen"] == 5150
    assert answer.json()["refunded_at"] is not None
    work_outbox()
    assert CreditOrder.objects.get().charged_fen == 0  # the provider never charged anything


def test_compensation_paid_at_a_desk_withdraws_the_charge(
    platform_rule, platform_loans, platform_reader, hangzhou, hz_desk
):
    first, second = platform_loans
    run_daily(today=first.due_on + dt.timedelta(days=30))
    returned = check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode).loan
    with pytest.raises(CompensationNotDue):
        pay_compensation_at_desk(actor=hz_desk, library=hangzhou, loan=returned)
    paid = pay_compensation_at_desk(actor=hz_desk, library=hangzhou, loan=first)
    assert (paid.status, paid.settled_by) == ("settled", "desk")
    assert CreditRecord.objects.get(key=f"loan:{first.pk}:charge").state == "cancelled"
    assert AuditEntry.objects.filter(action="loan.compensation_paid").count() == 1
    assert selectors.reader_blocks(platform_reader) == []
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charged_fen) == ("returned", 0)


def test_blocks_stop_loans_and_renewals_never_returns(
    platform_rule, platform_loans, platform_reader, hangzhou, hz_desk
):
    first, second = platform_loans
    Loan.objects.filter(pk=first.pk).update(due_on=clock.today() - dt.timedelta(days=40))
    blocks = selectors.reader_blocks(platform_reader)
    assert [b.code for b in blocks] == ["overdue"]
    assert "归还后" in blocks[0].message
    with pytest.raises(ReaderBlocked):
        renew_loan(actor=reader_actor(platform_reader), loan=second)
    item = ItemFactory(owning_library=hangzhou, current_library=hangzhou)
    with pytest.raises(ReaderBlocked) as refused:
        check_out(actor=hz_desk, library=hangzhou, reader=platform_reader, barcode=item.barcode)
    assert refused.value.detail["blocks"][0]["code"] == "overdue"
    run_daily()  # 40 days overdue: lost
    blocks = selectors.reader_blocks(platform_reader)
    assert [b.code for b in blocks] == ["lost_items"]
    assert "51.50 元" in blocks[0].message
    # a return is never blocked
    assert check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode).loan.status == (
        "returned"
    )
    assert Item.objects.get(pk=item.pk).status == "available"


def test_the_reader_pays_a_failed_deduction_through_the_provider_on_my_compensation(
    platform_rule, platform_loans, platform_reader, hangzhou, hz_desk, client, operator_user
):
    first, second = platform_loans
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    work_outbox()  # the first book is still out: the order stays open
    client.force_login(operator_user)
    fault = client.post(
        "/sandbox/zhima/control/faults",
        {"kind": "failed_deduction", "times": 1},
        content_type="application/json",
    )
    assert fault.status_code == 201
    run_daily(today=first.due_on + dt.timedelta(days=30))  # the first book is lost
    client.force_login(platform_reader.user)
    page = client.get("/compensation/").content.decode()
    assert f'id="bill-{first.pk}" data-state="due"' in page
    assert "赔偿 51.50 元" in page
    # the reader asks now: the sandbox fails the deduction
    answer = client.post("/compensation/", {"loan": first.pk}, follow=True).content.decode()
    assert "信用服务方暂未扣款成功" in answer
    assert CreditOrder.objects.get().state == "charge_failed"
    assert f'id="bill-{first.pk}" data-state="failed"' in answer
    assert f'id="pay-{first.pk}"' in answer
    # another reader cannot pay this bill
    from xinyue.orders.tests.conftest import make_reader

    other = make_reader(2)
    client.force_login(other.user)
    assert client.post("/compensation/", {"loan": first.pk}).status_code == 404
    client.force_login(platform_reader.user)
    answer = client.post("/compensation/", {"loan": first.pk}, follow=True).content.decode()
    assert "信用服务方已扣款，赔偿已结清" in answer
    assert f'id="bill-{first.pk}" data-state="charged"' in answer
    assert f'id="pay-{first.pk}"' not in answer
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.charged_fen) == ("charged", 5150)
    assert SandboxOrder.objects.get().deduction_attempts == 2
    assert Loan.objects.get(pk=first.pk).status == "settled"
    # asking again is refused and changes nothing at the provider
    again = client.post("/compensation/", {"loan": first.pk}, follow=True).content.decode()
    assert "这册书没有待赔付的遗失赔偿" in again
    assert SandboxOrder.objects.get().deduction_attempts == 2


def test_my_loans_page_and_api_say_why_the_reader_is_blocked(
    platform_rule, platform_loans, platform_reader, client
):
    first, _second = platform_loans
    client.force_login(platform_reader.user)
    assert 'id="loan-blocks"' not in client.get("/loans/").content.decode()
    assert client.get("/api/v1/loans").json()["blocks"] == []
    Loan.objects.filter(pk=first.pk).update(due_on=clock.today() - dt.timedelta(days=4))
    page = client.get("/loans/").content.decode()
    assert 'id="loan-blocks"' in page
    assert '<li data-block="overdue">有 1 册图书已逾期，归还后可继续借阅</li>' in page
    assert client.get("/api/v1/loans").json()["blocks"] == [
        {"code": "overdue", "message": "有 1 册图书已逾期，归还后可继续借阅"}
    ]
