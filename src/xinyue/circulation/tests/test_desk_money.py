"""赔偿与退款 at a desk (`/console/desk/money/`): staff find the reader by card or by the book,
settle each sum the services compute — a lost book's compensation before the provider charged
it, the rest above the deposit cap, a found book's refund — once, and nothing else changes."""

from __future__ import annotations

import pytest

from xinyue.cards.models import Card
from xinyue.circulation import selectors
from xinyue.circulation.models import CreditRecord, Loan, LoanEvent
from xinyue.circulation.services import check_in
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxOrder

pytestmark = pytest.mark.django_db

PAGE = "/console/desk/money/"


@pytest.fixture
def desk(logged_in, hz_desk_user):
    return logged_in(hz_desk_user)


def card_number(reader) -> str:
    return Card.objects.get(reader=reader, library__code="330100").number


def test_a_lost_book_paid_at_the_desk_before_the_provider_charged(capped, platform_reader, desk):
    lost, kept = capped
    charge = CreditRecord.objects.get(loan=lost, kind=CreditRecord.Kind.CHARGE)
    assert charge.state == CreditRecord.State.PENDING

    page = desk.post(PAGE, {"step": "reader", "scanned": card_number(platform_reader)})
    assert page.status_code == 302
    page = desk.get(PAGE).content.decode()
    assert f'id="money-{lost.pk}" data-kind="compensation" data-fen="5000"' in page
    assert "50.00" in page
    assert f'id="money-{kept.pk}"' not in page  # on loan, nothing to settle

    done = desk.post(PAGE, {"step": "compensation", "loan": lost.pk}, follow=True)
    assert f"已收取《{lost.item.title.title}》的赔偿款 50.00 元" in done.content.decode()
    paid = Loan.objects.get(pk=lost.pk)
    assert (paid.status, paid.settled_by, paid.compensation_unpaid_fen) == ("settled", "desk", 0)
    assert CreditRecord.objects.get(pk=charge.pk).state == CreditRecord.State.CANCELLED
    assert AuditEntry.objects.filter(action="loan.compensation_paid").count() == 1
    assert f'id="money-{lost.pk}"' not in done.content.decode()
    assert 'id="no-money"' in done.content.decode()

    # a second press (a stale page, a double click) changes nothing
    again = desk.post(PAGE, {"step": "compensation", "loan": lost.pk}, follow=True)
    assert "这笔款项已不需要处理" in again.content.decode()
    assert AuditEntry.objects.filter(action="loan.compensation_paid").count() == 1
    # the provider never deducts it: the credit order ends without a charge
    work_outbox()
    credit = CreditOrder.objects.get(reference=lost.credit_reference)
    assert credit.charged_fen == 0
    assert not SandboxOrder.objects.filter(out_order_no=credit.out_order_no, pay_amount_fen__gt=0)


def test_the_rest_above_the_deposit_then_the_found_books_refund(
    capped, platform_reader, desk, ningbo, nb_admin
):
    lost, _kept = capped
    work_outbox()  # the provider charges 30.00 of 50.00; 20.00 owed at a desk
    desk.post(PAGE, {"step": "reader", "scanned": card_number(platform_reader)})
    page = desk.get(PAGE).content.decode()
    assert f'id="money-{lost.pk}" data-kind="unpaid" data-fen="2000"' in page
    desk.post(PAGE, {"step": "unpaid", "loan": lost.pk})
    assert Loan.objects.get(pk=lost.pk).compensation_unpaid_fen == 0
    assert LoanEvent.objects.filter(loan=lost, note="unpaid_paid").count() == 1
    assert selectors.reader_blocks(platform_reader) == []

    # the book turns up at 宁波: 50.00 paid in all (30.00 by the provider, 20.00 here) is owed back
    check_in(actor=nb_admin, library=ningbo, barcode=lost.item.barcode)
    assert Loan.objects.get(pk=lost.pk).refund_due_fen == 5000
    desk.post(PAGE, {"step": "done"})
    assert 'name="scanned"' in desk.get(PAGE).content.decode()
    # found by the book's barcode (the reader need not be there with a card)
    desk.post(PAGE, {"step": "reader", "scanned": lost.item.barcode})
    page = desk.get(PAGE).content.decode()
    assert f'id="money-{lost.pk}" data-kind="refund" data-fen="5000"' in page
    done = desk.post(PAGE, {"step": "refund", "loan": lost.pk}, follow=True).content.decode()
    assert f"已退还《{lost.item.title.title}》的赔偿款 50.00 元" in done
    refunded = Loan.objects.get(pk=lost.pk)
    assert refunded.refunded_at is not None
    assert AuditEntry.objects.filter(action="loan.compensation_refunded").count() == 1
    desk.post(PAGE, {"step": "refund", "loan": lost.pk})
    assert AuditEntry.objects.filter(action="loan.compensation_refunded").count() == 1
    assert Loan.objects.get(pk=lost.pk).refunded_at == refunded.refunded_at


def test_unknown_scans_and_other_readers_loans_change_nothing(
    capped, platform_reader, hz_reader, desk
):
    lost, _kept = capped
    refused = desk.post(PAGE, {"step": "reader", "scanned": "NO-SUCH-CARD"})
    assert refused.status_code == 422
    assert 'id="scan-error"' in refused.content.decode()
    assert desk.post(PAGE, {"step": "reader", "scanned": ""}).status_code == 422

    # staff serving another reader cannot settle this reader's loan by posting its id
    desk.post(PAGE, {"step": "reader", "scanned": "HZ000001"})
    page = desk.get(PAGE).content.decode()
    assert 'id="no-money"' in page
    answer = desk.post(PAGE, {"step": "compensation", "loan": lost.pk}, follow=True)
    assert "这笔款项已不需要处理" in answer.content.decode()
    unchanged = Loan.objects.get(pk=lost.pk)
    assert (unchanged.status, unchanged.settled_by) == ("lost", "")
    assert not AuditEntry.objects.filter(action="loan.compensation_paid").exists()
    # a kind the loan does not owe is refused the same way
    desk.post(PAGE, {"step": "reader", "scanned": card_number(platform_reader)})
    desk.post(PAGE, {"step": "refund", "loan": lost.pk})
    assert Loan.objects.get(pk=lost.pk).refunded_at is None


def test_a_reader_gets_no_desk_money_page(client, platform_reader):
    client.force_login(platform_reader.user)
    assert client.get(PAGE).status_code in (302, 403)
