"""QR credit borrowing in real headless Chromium: the desk of 杭州 scans two books and shows the
QR code; the reader, logged in on a phone-sized page, opens it, sees the library and the books,
confirms, and the books are lent under one credit order (the in-process sandbox gateway)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from xinyue.accounts.services import create_staff_user
from xinyue.circulation.models import Loan
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core.actors import SYSTEM
from xinyue.credit.models import CreditOrder
from xinyue.libraries.models import Library
from xinyue.orders.tests.conftest import id_number, make_reader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "desk-password-42"


def test_the_reader_confirms_a_qr_borrowing_on_the_phone(page, browser, live_server, zhejiang):
    Library.objects.filter(code="330000").update(is_operator=True)
    hangzhou = Library.objects.get(code="330100")
    create_staff_user(actor=SYSTEM, library=hangzhou, username="hzdesk", password=PASSWORD)
    ItemFactory(owning_library=hangzhou, barcode="HZL-0001", title__title="围城")
    ItemFactory(owning_library=hangzhou, barcode="HZL-0002", title__title="呐喊")
    reader = make_reader(1)

    desk_context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    desk = desk_context.new_page()
    desk.goto("/login/")
    desk.fill("input[name=username]", "hzdesk")
    desk.fill("input[name=password]", PASSWORD)
    desk.locator("form button.primary").click()
    desk.goto("/console/desk/borrow-session/")
    desk.fill("#barcodes", "HZL-0001\nHZL-0002")
    desk.get_by_role("button", name="生成二维码").click()
    expect(desk.locator("#borrow-qr svg")).to_be_visible()
    path = urlsplit(desk.locator("#borrow-url").get_attribute("href")).path
    desk_context.close()

    page.goto(path)  # the phone scanned the code: log in first, then back to the code's page
    page.fill("input[name=id_number]", id_number(1))
    page.fill("input[name=password]", "read-more-books-7")
    page.click("#login-submit")
    page.wait_for_url(f"**{path}")
    expect(page.locator("#borrow-library")).to_contain_text(hangzhou.name)
    expect(page.locator("#borrow-items li")).to_have_count(2)
    expect(page.locator("#borrow-items")).to_contain_text("围城")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # a phone, no sideways
    page.click("#borrow-confirm")
    expect(page.locator("#borrow-done")).to_be_visible()
    expect(page.locator("#borrow-loans li")).to_have_count(2)

    loans = list(Loan.objects.filter(reader=reader).order_by("id"))
    assert [(loan.item.barcode, loan.program, loan.library_id) for loan in loans] == [
        ("HZL-0001", "local", hangzhou.pk),
        ("HZL-0002", "local", hangzhou.pk),
    ]
    credit = CreditOrder.objects.get(reader=reader)
    assert credit.state == CreditOrder.State.BORROWED
    assert {loan.credit_reference for loan in loans} == {credit.reference}
    # The code works once: opening it again shows the same loans, confirming twice lends nothing new.
    page.goto(path)
    expect(page.locator("#borrow-loans li")).to_have_count(2)
    assert Loan.objects.filter(reader=reader).count() == 2
