"""QR credit borrowing: the desk shows a one-time, short-lived QR code; the logged-in reader
confirms on the phone; the loans are local ones under one credit order at the provider (the
in-process sandbox gateway)."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation.errors import (
    BorrowSessionExpired,
    BorrowSessionNotFound,
    BorrowSessionUsed,
    ReaderBlocked,
)
from xinyue.circulation.models import BorrowSession, Item, Loan
from xinyue.circulation.services import (
    confirm_borrow_session,
    session_patron_reader,
    start_borrow_session,
)
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.errors import PermissionDenied
from xinyue.credit.models import CreditOrder
from xinyue.orders.tests.conftest import make_reader
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(hangzhou):
    return [
        ItemFactory(owning_library=hangzhou, barcode="HZL-0001", list_price_fen=3200),
        ItemFactory(owning_library=hangzhou, barcode="HZL-0002", list_price_fen=4500),
    ]


@pytest.fixture
def borrower(province):
    return make_reader(1)  # admitted by the sandbox, credit card at 杭州


def test_the_reader_confirms_and_the_books_are_lent_under_one_credit_order(
    hz_desk, shelf, borrower, hangzhou
):
    session, token = start_borrow_session(
        actor=hz_desk, library=hangzhou, barcodes=[" HZL-0001", "HZL-0002", "HZL-0001"]
    )
    assert session.barcodes == ["HZL-0001", "HZL-0002"]
    assert session.token_hash != token
    assert token not in session.token_hash
    confirmed, loans = confirm_borrow_session(actor=reader_actor(borrower), token=token)
    assert confirmed.status == BorrowSession.Status.CONFIRMED
    assert [(loan.item.barcode, loan.program, loan.reader_id) for loan in loans] == [
        ("HZL-0001", "local", borrower.pk),
        ("HZL-0002", "local", borrower.pk),
    ]
    assert {loan.credit_reference for loan in loans} == {f"borrow:{session.pk}"}
    credit = CreditOrder.objects.get(reference=f"borrow:{session.pk}")
    assert credit.reader_id == borrower.pk
    assert credit.deposit_fen == 7700
    assert credit.state == CreditOrder.State.BORROWED
    assert set(Item.objects.values_list("status", flat=True)) == {"on_loan"}
    # The same reader again (a double tap, a reload): the same loans, no second credit order.
    _again, loans_again = confirm_borrow_session(actor=reader_actor(borrower), token=token)
    assert [loan.pk for loan in loans_again] == [loan.pk for loan in loans]
    assert CreditOrder.objects.filter(reader=borrower).count() == 1
    assert Loan.objects.count() == 2


def test_another_reader_cannot_use_a_confirmed_code(hz_desk, shelf, borrower, hangzhou):
    _session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    confirm_borrow_session(actor=reader_actor(borrower), token=token)
    other = make_reader(2)
    with pytest.raises(BorrowSessionUsed):
        confirm_borrow_session(actor=reader_actor(other), token=token)
    assert Loan.objects.filter(reader=other).count() == 0
    assert CreditOrder.objects.filter(reader=other).count() == 0


def test_an_expired_code_is_refused_and_changes_nothing(hz_desk, shelf, borrower, hangzhou):
    session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    BorrowSession.objects.filter(pk=session.pk).update(
        expires_at=clock.now() - dt.timedelta(seconds=1)
    )
    with pytest.raises(BorrowSessionExpired):
        confirm_borrow_session(actor=reader_actor(borrower), token=token)
    session.refresh_from_db()
    assert (session.status, session.reader_id) == ("open", None)
    assert Loan.objects.count() == 0
    assert CreditOrder.objects.filter(reader=borrower).count() == 0


def test_unknown_tokens_and_staff_cannot_confirm(hz_desk, shelf, borrower, hangzhou):
    _session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    with pytest.raises(BorrowSessionNotFound):
        confirm_borrow_session(actor=reader_actor(borrower), token="x" * 32)
    with pytest.raises(PermissionDenied):
        confirm_borrow_session(actor=hz_desk, token=token)
    assert Loan.objects.count() == 0


def test_a_blocked_reader_fails_the_session_without_a_provider_call(
    hz_desk, shelf, borrower, hangzhou
):
    ItemFactory(owning_library=hangzhou, barcode="HZL-0009", status="on_loan")
    Loan.objects.create(
        program="local",
        reader=borrower,
        item=Item.objects.get(barcode="HZL-0009"),
        library=hangzhou,
        started_at=clock.now() - dt.timedelta(days=40),
        due_on=clock.today() - dt.timedelta(days=10),
    )
    session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    with pytest.raises(ReaderBlocked) as refused:
        confirm_borrow_session(actor=reader_actor(borrower), token=token)
    assert refused.value.code == "reader_blocked"
    session.refresh_from_db()
    assert session.status == "failed"
    assert CreditOrder.objects.filter(reference=f"borrow:{session.pk}").count() == 0
    assert Item.objects.get(barcode="HZL-0001").status == "available"


def test_the_kiosk_names_the_patron_by_the_token_once_confirmed(
    hz_desk, shelf, borrower, hangzhou, ningbo
):
    from xinyue.sip2.acs import find_patron

    session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    assert find_patron(hangzhou, token) is None  # not confirmed yet
    confirm_borrow_session(actor=reader_actor(borrower), token=token)
    patron = find_patron(hangzhou, token)
    assert patron.reader.pk == borrower.pk
    assert patron.card.library_id == hangzhou.pk
    assert session_patron_reader(library=ningbo, token=token) is None  # another library's kiosk
    BorrowSession.objects.filter(pk=session.pk).update(expires_at=clock.now())
    assert find_patron(hangzhou, token) is None


def test_the_api_and_the_reader_page(hz_key_client, client, shelf, borrower):
    answer = hz_key_client.post(
        "/api/v1/desk/borrow-sessions",
        {"barcodes": ["HZL-0001", "HZL-0002"]},
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert body["library_code"] == "330100"
    assert body["barcodes"] == ["HZL-0001", "HZL-0002"]
    assert body["qr_svg"].startswith("<svg")
    path = body["qr_payload"].split("//", 1)[1].split("/", 1)[1]
    assert path == f"borrow/{body['token']}/"
    client.force_login(borrower.user)
    page = client.get("/" + path)
    assert page.status_code == 200
    assert "杭州图书馆" in page.content.decode()
    assert 'id="borrow-confirm"' in page.content.decode()
    done = client.post("/" + path)
    assert done.status_code == 200
    assert 'id="borrow-done"' in done.content.decode()
    assert Loan.objects.filter(reader=borrower, program="local").count() == 2
    unknown_book = hz_key_client.post(
        "/api/v1/desk/borrow-sessions", {"barcodes": ["NOPE-0001"]}, content_type="application/json"
    )
    assert unknown_book.status_code == 404
    assert unknown_book.json()["code"] == "item_unknown"
    lent = hz_key_client.post(
        "/api/v1/desk/borrow-sessions", {"barcodes": ["HZL-0001"]}, content_type="application/json"
    )
    assert lent.status_code == 409
    assert lent.json()["detail"]["reason"] == "status"


def test_a_reader_without_credit_admittance_is_refused_and_nothing_is_lent(
    hz_desk, shelf, hz_reader, hangzhou, client
):
    from xinyue.circulation.errors import BorrowCreditRefused

    session, token = start_borrow_session(actor=hz_desk, library=hangzhou, barcodes=["HZL-0001"])
    with pytest.raises(BorrowCreditRefused):
        confirm_borrow_session(actor=reader_actor(hz_reader), token=token)
    session.refresh_from_db()
    assert session.status == "failed"
    assert session.failure
    assert Loan.objects.count() == 0
    assert Item.objects.get(barcode="HZL-0001").status == "available"
    client.force_login(hz_reader.user)
    page = client.get(f"/borrow/{token}/")
    assert page.status_code == 409
    assert 'id="borrow-confirm"' not in page.content.decode()
