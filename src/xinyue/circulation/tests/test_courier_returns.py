"""Return by courier or locker: the loan clock stops at the hand-off to the carrier."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.circulation import selectors
from xinyue.circulation.errors import LoanNotFound, ReturnNotBooked
from xinyue.circulation.models import Loan, overdue_q
from xinyue.circulation.services import book_return, check_in, record_hand_over
from xinyue.core import clock
from xinyue.core.errors import InvalidInput
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def test_a_carrier_delay_never_makes_the_reader_overdue(
    platform_loans, platform_reader, hz_desk, ningbo, nb_admin
):
    loan = platform_loans[0]
    actor = reader_actor(platform_reader)
    with pytest.raises(InvalidInput):
        book_return(actor=actor, loan=loan, method="drone")
    with pytest.raises(ReturnNotBooked):
        record_hand_over(actor=hz_desk, loan=loan)
    loan = book_return(actor=actor, loan=loan, method="courier")
    assert loan.return_method == "courier"
    loan = record_hand_over(actor=hz_desk, loan=loan)
    handed = loan.handed_over_at
    assert handed is not None
    # The carrier takes three weeks past the due date: the reader is not overdue.
    Loan.objects.filter(pk=loan.pk).update(due_on=clock.local(handed).date(), handed_over_at=handed)
    Loan.objects.filter(pk=platform_loans[1].pk).update(due_on=clock.today() + dt.timedelta(days=5))
    later = clock.today() + dt.timedelta(days=21)
    loan.refresh_from_db()
    assert loan.due_on == clock.local(handed).date()
    assert not Loan.objects.filter(overdue_q(later), pk=loan.pk).exists()
    assert (
        Loan.objects.filter(
            overdue_q(clock.local(handed).date() + dt.timedelta(days=1)), pk=loan.pk
        ).count()
        == 0
    )
    # Without the hand-off the same loan would be overdue then.
    assert Loan.objects.filter(overdue_q(later), pk=platform_loans[1].pk).exists()
    # A second hand-off keeps the first time; the receiving library checks it in.
    assert record_hand_over(actor=hz_desk, loan=loan).handed_over_at == handed
    result = check_in(actor=nb_admin, library=ningbo, barcode=loan.item.barcode)
    assert result.loan.status == "returned"
    assert result.transferred is True


def test_overdue_at_the_hand_off_stays_overdue(platform_loans, platform_reader, hz_desk):
    loan = platform_loans[0]
    Loan.objects.filter(pk=loan.pk).update(due_on=clock.today() - dt.timedelta(days=3))
    loan.refresh_from_db()
    book_return(actor=reader_actor(platform_reader), loan=loan, method="locker")
    loan = record_hand_over(actor=hz_desk, loan=loan)
    assert loan.is_overdue is True
    assert [block.code for block in selectors.reader_blocks(platform_reader)] == ["overdue"]


def test_only_the_reader_books_their_return(platform_loans, province):
    from xinyue.orders.tests.conftest import make_reader

    other = make_reader(2)
    with pytest.raises(LoanNotFound):
        book_return(actor=reader_actor(other), loan=platform_loans[0], method="courier")
    platform_loans[0].refresh_from_db()
    assert platform_loans[0].return_method == ""


def test_the_reader_books_on_my_loans_and_the_carrier_records_the_hand_off(
    client, platform_loans, platform_reader, hz_key_client, province
):
    from xinyue.libraries.services import update_library

    loan = platform_loans[0]
    client.force_login(platform_reader.user)
    page = client.get("/loans/").content.decode()
    assert f'id="courier-{loan.pk}"' in page
    assert f'id="renew-{loan.pk}"' in page  # the renewal stays
    answer = client.post(f"/loans/{loan.pk}/return/", {"method": "courier"}, follow=True)
    assert "已预约" in answer.content.decode()
    loan.refresh_from_db()
    assert loan.return_method == "courier"
    assert f'id="return-status-{loan.pk}"' in answer.content.decode()
    # The carrier's key (a library's key) records the hand-off over the API.
    handed = hz_key_client.post(f"/api/v1/desk/loans/{loan.pk}/handed-over")
    assert handed.status_code == 200, handed.content
    assert handed.json()["handed_over_at"] is not None
    assert handed.json()["is_overdue"] is False
    # The operator's policy offers lockers only: a courier booking is refused, nothing changes.
    from xinyue.core.actors import SYSTEM

    update_library(actor=SYSTEM, library=province, settings_values={"return_methods": "locker"})
    other = platform_loans[1]
    page = client.get("/loans/").content.decode()
    assert f'id="courier-{other.pk}"' not in page
    assert f'id="locker-{other.pk}"' in page
    client.post(f"/loans/{other.pk}/return/", {"method": "courier"})
    other.refresh_from_db()
    assert other.return_method == ""


def test_the_receiving_library_sees_its_booked_returns_and_checks_them_in(
    client, platform_loans, platform_reader, hangzhou, hz_desk_user, nb_admin_user
):
    """The reader's home library (杭州, where the card is) gets the booking; 宁波 does not see
    it. Staff record the hand-off, then check the book in from the same page; an overdue
    booking without a hand-off is marked late."""
    first, second = platform_loans
    actor = reader_actor(platform_reader)
    book_return(actor=actor, loan=first, method="courier")
    Loan.objects.filter(pk=second.pk).update(due_on=clock.today() - dt.timedelta(days=2))
    book_return(actor=actor, loan=second, method="locker")
    assert set(Loan.objects.values_list("return_library", flat=True)) == {hangzhou.pk}

    client.force_login(nb_admin_user)
    assert 'id="no-returns"' in client.get("/console/desk/returns/").content.decode()
    refused = client.post("/console/desk/returns/", {"loan": first.pk, "step": "checkin"})
    assert refused.status_code == 302
    assert Loan.objects.get(pk=first.pk).status == "on_loan"  # not theirs: nothing changed

    client.force_login(hz_desk_user)
    page = client.get("/console/desk/returns/").content.decode()
    assert f'id="hand-over-{first.pk}"' in page
    assert f'id="hand-over-{second.pk}"' in page
    assert page.count("已过应还日期未交寄") == 1
    client.post("/console/desk/returns/", {"loan": first.pk, "step": "handed_over"})
    first.refresh_from_db()
    assert first.handed_over_at is not None
    page = client.get("/console/desk/returns/").content.decode()
    assert f'id="hand-over-{first.pk}"' not in page
    assert "运输途中" in page
    # Eight days with the carrier: late.
    Loan.objects.filter(pk=first.pk).update(
        handed_over_at=first.handed_over_at - dt.timedelta(days=8)
    )
    assert "运输超时" in client.get("/console/desk/returns/").content.decode()
    answer = client.post(
        "/console/desk/returns/", {"loan": first.pk, "step": "checkin"}, follow=True
    )
    assert "新入藏" in answer.content.decode()
    first.refresh_from_db()
    assert (first.status, first.returned_library_id) == ("returned", hangzhou.pk)
    item = first.item
    item.refresh_from_db()
    assert (item.owning_library_id, item.current_library_id) == (hangzhou.pk, hangzhou.pk)
    assert f'id="return-{first.pk}"' not in answer.content.decode()
