"""The desk services: check-in (return anywhere, floating, the credit order completed once),
check-out under the local program, and every refusal leaving the database as it was."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.accounts.selectors import actor_for_user
from xinyue.circulation import selectors
from xinyue.circulation.errors import (
    ItemNotOnLoan,
    ItemUnknown,
    NotLendableHere,
    QuotaReached,
    ReaderBlocked,
)
from xinyue.circulation.models import (
    CirculationRule,
    CreditRecord,
    Item,
    ItemEvent,
    ItemTransfer,
    Loan,
    LoanEvent,
)
from xinyue.circulation.services import check_in, check_out
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.libraries.models import WebhookDelivery
from xinyue.libraries.services import update_library
from xinyue.orders.models import ReaderQuota

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "loans": list(
            Loan.objects.order_by("id").values_list(
                "status", "due_on", "renewals", "returned_library_id"
            )
        ),
        "items": list(
            Item.objects.order_by("id").values_list(
                "status", "owning_library_id", "current_library_id"
            )
        ),
        "item_events": ItemEvent.objects.count(),
        "loan_events": LoanEvent.objects.count(),
        "transfers": ItemTransfer.objects.count(),
        "credit": list(CreditOrder.objects.values_list("state", "due_at", "pending_op")),
        "quota": list(ReaderQuota.objects.values_list("reader_id", "open_volumes")),
        "audit": AuditEntry.objects.filter(action__startswith=("loan")).count(),
        "webhooks": WebhookDelivery.objects.count(),
        "outbox": list(CreditRecord.objects.order_by("id").values_list("key", "state")),
    }


@pytest.fixture
def nb_desk(ningbo):
    from conftest import make_staff

    return actor_for_user(make_staff(ningbo, "nb_desk", "desk"))


# --- check-in ---------------------------------------------------------------------------------


def test_a_platform_book_returned_at_another_library_joins_it(
    platform_loans, platform_reader, ningbo, nb_desk, province
):
    from xinyue.libraries.services import subscribe_webhook

    subscribe_webhook(actor=SYSTEM, library=ningbo, url="https://ils.example.org/hook")
    first, _second = platform_loans
    assert ReaderQuota.objects.get(reader=platform_reader).open_volumes == 2

    result = check_in(actor=nb_desk, library=ningbo, barcode=" XY-0000001 ")

    assert (result.transferred, result.already_returned, result.loan.pk) == (True, False, first.pk)
    assert "新入藏" in result.message
    assert ningbo.name in result.message
    first.refresh_from_db()
    assert (first.status, first.returned_library_id, first.return_transferred) == (
        "returned",
        ningbo.pk,
        True,
    )
    item = Item.objects.get(barcode="XY-0000001")
    assert (item.owning_library_id, item.current_library_id, item.status) == (
        ningbo.pk,
        ningbo.pk,
        "available",
    )
    # provenance kept: the supplier, the order line, the price, the acquisition date
    assert item.order_line_id == first.order_line_id
    assert item.list_price_fen == 3100
    assert item.supplier.code == "xinhua"
    assert item.transferred_at is not None
    transfer = ItemTransfer.objects.get()
    assert (transfer.from_library_id, transfer.to_library_id, transfer.loan_id) == (
        province.pk,
        ningbo.pk,
        first.pk,
    )
    assert ReaderQuota.objects.get(reader=platform_reader).open_volumes == 1
    # the other book of the order is still out: the credit order stays open
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op) == ("borrowed", "")
    # Ningbo's own system hears of the book (signed webhook, no reader data)
    delivery = WebhookDelivery.objects.get(event_type="book.transferred")
    assert delivery.payload["data"]["barcode"] == "XY-0000001"
    assert delivery.payload["data"]["from_library_code"] == "330000"
    assert "reader" not in str(delivery.payload)
    assert AuditEntry.objects.filter(action="item.transferred").count() == 1


def test_a_repeated_check_in_answers_the_same_and_changes_nothing(platform_loans, ningbo, nb_desk):
    first = check_in(actor=nb_desk, library=ningbo, barcode="XY-0000001")
    before = snapshot()
    again = check_in(actor=nb_desk, library=ningbo, barcode="XY-0000001")
    assert (again.already_returned, again.transferred, again.loan.pk, again.message) == (
        True,
        True,
        first.loan.pk,
        first.message,
    )
    assert snapshot() == before


def test_the_last_book_of_an_order_completes_the_credit_order_once(
    platform_loans, hangzhou, ningbo, hz_desk, nb_desk
):
    check_in(actor=nb_desk, library=ningbo, barcode="XY-0000001")
    result = check_in(actor=hz_desk, library=hangzhou, barcode="XY-0000002")
    assert result.transferred is True
    first, second = (loan.pk for loan in platform_loans)
    assert work_outbox() == [
        (f"loan:{first}:borrow", "sent"),
        (f"loan:{second}:borrow", "sent"),
        (f"loan:{first}:return", "sent"),
        (f"loan:{second}:return", "sent"),
    ]
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op, credit.charge_fen) == ("returned", "", 0)
    from xinyue.credit.sandbox.models import SandboxOrder

    assert SandboxOrder.objects.get(out_order_no=credit.out_order_no).use_state == "restore"
    events = credit.events.filter(to_state="returned").count()
    check_in(actor=hz_desk, library=hangzhou, barcode="XY-0000002")
    work_outbox()
    assert credit.events.filter(to_state="returned").count() == events == 1


def test_check_in_refusals_change_nothing(platform_loans, hangzhou, ningbo, hz_desk):
    before = snapshot()
    with pytest.raises(ItemUnknown) as unknown:
        check_in(actor=hz_desk, library=hangzhou, barcode="NOPE-0001")
    assert (unknown.value.code, unknown.value.http_status) == ("item_unknown", 404)
    with pytest.raises(InvalidInput) as bad:
        check_in(actor=hz_desk, library=hangzhou, barcode="<script>")
    assert list(bad.value.fields) == ["barcode"]
    with pytest.raises(PermissionDenied):
        check_in(actor=hz_desk, library=ningbo, barcode="XY-0000001")
    shelf = ItemFactory(owning_library=hangzhou)
    before = snapshot()
    with pytest.raises(ItemNotOnLoan) as not_on_loan:
        check_in(actor=hz_desk, library=hangzhou, barcode=shelf.barcode)
    assert not_on_loan.value.code == "item_not_on_loan"
    assert snapshot() == before


def test_a_local_book_floats_only_where_its_owner_allows(hangzhou, ningbo, hz_desk, hz_reader):
    from conftest import make_staff

    nb_clerk = actor_for_user(make_staff(ningbo, "nb_clerk"))
    stays = ItemFactory(owning_library=hangzhou)
    floats = ItemFactory(owning_library=hangzhou)
    check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=stays.barcode)
    check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=floats.barcode)

    sent_home = check_in(actor=nb_clerk, library=ningbo, barcode=stays.barcode)
    stays.refresh_from_db()
    assert sent_home.transferred is False
    assert (stays.owning_library_id, stays.current_library_id, stays.status) == (
        hangzhou.pk,
        ningbo.pk,
        "in_transit",
    )
    assert hangzhou.name in sent_home.message
    assert "送回" in sent_home.message

    # it arrives home: checked in there, it is on the shelf again (the loan stays as it was)
    home = check_in(actor=hz_desk, library=hangzhou, barcode=stays.barcode)
    stays.refresh_from_db()
    assert (home.already_returned, home.transferred, home.loan.returned_library_id) == (
        True,
        False,
        ningbo.pk,
    )
    assert (stays.status, stays.current_library_id) == ("available", hangzhou.pk)
    assert "回到本馆" in home.message

    update_library(actor=SYSTEM, library=hangzhou, settings_values={"local_books_float": True})
    joined = check_in(actor=nb_clerk, library=ningbo, barcode=floats.barcode)
    floats.refresh_from_db()
    assert joined.transferred is True
    assert (floats.owning_library_id, floats.status) == (ningbo.pk, "available")


# --- check-out --------------------------------------------------------------------------------


def test_check_out_lends_under_the_local_program_with_the_rules_due_date(
    hangzhou, hz_desk, hz_reader
):
    CirculationRule.objects.create(
        library=hangzhou,
        loan_days=21,
        renewals=2,
        renewal_grace_days=3,
        max_open_loans=5,
        compensation_factor_permille=1000,
        compensation_fee_fen=0,
    )
    item = ItemFactory(owning_library=hangzhou)
    loan = check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=item.barcode)
    assert (loan.program, loan.status, loan.library_id, loan.reader_id) == (
        "local",
        "on_loan",
        hangzhou.pk,
        hz_reader.pk,
    )
    assert loan.due_on == clock.today() + dt.timedelta(days=21)
    item.refresh_from_db()
    assert item.status == "on_loan"
    before = snapshot()
    again = check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=item.barcode)
    assert again.pk == loan.pk
    assert snapshot() == before
    assert list(selectors.open_loans(hz_reader)) == [loan]


def test_check_out_refusals_change_nothing(hangzhou, ningbo, hz_desk, hz_reader, nb_admin):
    from xinyue.cards.tests.factories import CardFactory

    CirculationRule.objects.create(
        loan_days=30,
        renewals=1,
        renewal_grace_days=3,
        max_open_loans=1,
        compensation_factor_permille=1000,
        compensation_fee_fen=0,
    )
    mine = ItemFactory(owning_library=hangzhou)
    second = ItemFactory(owning_library=hangzhou)
    theirs = ItemFactory(owning_library=ningbo)
    check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=mine.barcode)
    before = snapshot()

    with pytest.raises(QuotaReached) as quota:
        check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=second.barcode)
    assert quota.value.detail == {"quota": 1, "open_loans": 1}
    with pytest.raises(NotLendableHere) as other:
        check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=theirs.barcode)
    assert other.value.detail == {"reason": "other_library"}
    other_reader = CardFactory(library=hangzhou, number="HZ000002").reader
    with pytest.raises(NotLendableHere) as taken:
        check_out(actor=hz_desk, library=hangzhou, reader=other_reader, barcode=mine.barcode)
    assert taken.value.detail == {"reason": "on_loan"}
    # a clerk of 杭州 cannot lend at 宁波, and 宁波's admin not at 杭州
    with pytest.raises(PermissionDenied):
        check_out(actor=hz_desk, library=ningbo, reader=hz_reader, barcode=theirs.barcode)
    with pytest.raises(PermissionDenied):
        check_out(actor=nb_admin, library=hangzhou, reader=hz_reader, barcode=second.barcode)
    # a reader without a card at 宁波
    from conftest import make_staff

    nb_clerk = actor_for_user(make_staff(ningbo, "nb_clerk"))
    with pytest.raises(ReaderBlocked) as no_card:
        check_out(actor=nb_clerk, library=ningbo, reader=hz_reader, barcode=theirs.barcode)
    assert [b["code"] for b in no_card.value.detail["blocks"]] == ["no_card"]
    assert snapshot() == before


def test_an_overdue_book_blocks_new_loans_and_says_why(hangzhou, hz_desk, hz_reader):
    item = ItemFactory(owning_library=hangzhou)
    loan = check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode=item.barcode)
    Loan.objects.filter(pk=loan.pk).update(due_on=clock.today() - dt.timedelta(days=1))
    assert [b.code for b in selectors.reader_blocks(hz_reader)] == ["overdue"]
    before = snapshot()
    with pytest.raises(ReaderBlocked) as blocked:
        check_out(
            actor=hz_desk,
            library=hangzhou,
            reader=hz_reader,
            barcode=ItemFactory(owning_library=hangzhou).barcode,
        )
    assert blocked.value.detail["blocks"] == [
        {"code": "overdue", "message": "有 1 册图书已逾期，归还后可继续借阅"}
    ]
    assert snapshot()["loans"] == before["loans"]
    # a return is never blocked
    assert check_in(actor=hz_desk, library=hangzhou, barcode=item.barcode).loan.pk == loan.pk
    assert selectors.reader_blocks(hz_reader) == []


def test_platform_loans_never_count_against_the_local_quota(
    platform_loans, platform_reader, hangzhou, hz_desk
):
    CirculationRule.objects.create(
        program="local",
        loan_days=30,
        renewals=1,
        renewal_grace_days=3,
        max_open_loans=1,
        compensation_factor_permille=1000,
        compensation_fee_fen=0,
    )
    item = ItemFactory(owning_library=hangzhou)
    loan = check_out(actor=hz_desk, library=hangzhou, reader=platform_reader, barcode=item.barcode)
    assert loan.program == "local"
    assert selectors.open_loan_count(reader=platform_reader, program="platform") == 2


def test_a_floated_platform_book_is_lent_locally_where_it_now_belongs(
    platform_loans, hangzhou, hz_desk, hz_reader
):
    check_in(actor=hz_desk, library=hangzhou, barcode="XY-0000001")
    loan = check_out(actor=hz_desk, library=hangzhou, reader=hz_reader, barcode="XY-0000001")
    assert (loan.program, loan.library_id, loan.item.program) == ("local", hangzhou.pk, "platform")
    assert selectors.item_by_barcode("XY-0000001").status == "on_loan"
    assert selectors.item_by_barcode("nothing") is None
