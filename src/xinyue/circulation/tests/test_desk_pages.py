"""The desk pages without a browser: lending by card (or card QR) then books, refusals shown with
their reason, and each library's staff only at their own desk."""

from __future__ import annotations

import pytest

from xinyue.circulation.models import Loan
from xinyue.circulation.tests.factories import ItemFactory

pytestmark = pytest.mark.django_db


def test_lending_at_the_desk_by_card_then_books(logged_in, hz_desk_user, hangzhou, hz_reader):
    client = logged_in(hz_desk_user)
    page = client.get("/console/desk/checkout/")
    assert page.status_code == 200
    assert 'name="card_number"' in page.content.decode()
    page = client.post("/console/desk/checkout/", {"step": "card", "card_number": " HZ000001 "})
    html = page.content.decode()
    assert 'id="reader"' in html
    assert "HZ000001" in html
    item = ItemFactory(owning_library=hangzhou, title__title="边城")
    page = client.post("/console/desk/checkout/", {"step": "item", "barcode": item.barcode})
    html = page.content.decode()
    assert "《边城》已借出" in html
    assert 'id="loans"' in html
    loan = Loan.objects.get()
    assert (loan.program, loan.reader_id, loan.library_id) == ("local", hz_reader.pk, hangzhou.pk)
    # a book of another library is refused with the reason, nothing lent
    from xinyue.libraries.models import Library

    theirs = ItemFactory(owning_library=Library.objects.get(code="330200"))
    page = client.post("/console/desk/checkout/", {"step": "item", "barcode": theirs.barcode})
    assert "不能在本馆借出" in page.content.decode()
    assert Loan.objects.count() == 1
    # done: the next reader
    page = client.post("/console/desk/checkout/", {"step": "done"})
    assert page.status_code == 302
    assert 'id="reader"' not in client.get("/console/desk/checkout/").content.decode()


def test_an_unknown_card_is_said_and_nothing_is_lent(logged_in, hz_desk_user, hangzhou):
    client = logged_in(hz_desk_user)
    page = client.post("/console/desk/checkout/", {"step": "card", "card_number": "NOPE"})
    assert "本馆没有这个读者证号" in page.content.decode()
    item = ItemFactory(owning_library=hangzhou)
    page = client.post("/console/desk/checkout/", {"step": "item", "barcode": item.barcode})
    assert "请先扫描读者证" in page.content.decode()
    assert Loan.objects.count() == 0


def test_the_operator_picks_the_library_and_staff_stay_at_their_own(
    logged_in, operator_user, hz_desk_user, ningbo, hangzhou
):
    client = logged_in(operator_user)
    page = client.get("/console/desk/checkin/?library=330200")
    assert ningbo.name in page.content.decode()
    client = logged_in(hz_desk_user)
    page = client.get("/console/desk/checkin/?library=330200")
    assert hangzhou.name in page.content.decode()  # a clerk's desk is always their library's
    assert ningbo.name not in page.content.decode().split("<h1>")[1].split("</h1>")[0]
