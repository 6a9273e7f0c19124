"""The return desk in real headless Chromium, as a barcode scanner uses it: the input has the
focus, the scan ends with Enter, the answer is large, the input is ready for the next book."""

from __future__ import annotations

import pytest

from xinyue.accounts.services import create_staff_user
from xinyue.circulation.models import Item, Loan
from xinyue.circulation.tests.factories import ItemFactory
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.readers.tests.factories import ReaderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "desk-password-42"


def test_a_scanned_platform_book_joins_this_library(page, zhejiang):
    province = Library.objects.get(code="330000")
    ningbo = Library.objects.get(code="330200")
    create_staff_user(actor=SYSTEM, library=ningbo, username="nbdesk", password=PASSWORD)
    item = ItemFactory(
        barcode="XY-0000042",
        program="platform",
        owning_library=province,
        current_library=None,
        status=Item.Status.ON_LOAN,
        title__title="围城",
    )
    loan = Loan.objects.create(
        program="platform",
        reader=ReaderFactory(),
        item=item,
        library=province,
        started_at=clock.now(),
        due_on=clock.today(),
    )

    page.goto("/login/")
    page.fill("input[name=username]", "nbdesk")
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button.primary").click()
    page.goto("/console/desk/checkin/")
    scan = page.locator("input.scan")
    assert scan.evaluate("el => el === document.activeElement")

    page.keyboard.type("XY-0000042")
    page.keyboard.press("Enter")
    feedback = page.locator("#feedback")
    feedback.wait_for()
    text = feedback.inner_text()
    assert "《围城》已归还" in text
    assert "宁波图书馆" in text or ningbo.name in text
    assert "新入藏" in text
    assert "feedback-transferred" in feedback.get_attribute("class")
    # ready for the next book: empty and focused
    assert page.locator("input.scan").input_value() == ""
    assert page.locator("input.scan").evaluate("el => el === document.activeElement")
    item.refresh_from_db()
    loan.refresh_from_db()
    assert (item.owning_library_id, loan.status) == (ningbo.pk, "returned")

    # the kiosk-style retry: the same answer, marked as done before, nothing changed
    page.keyboard.type("XY-0000042")
    page.keyboard.press("Enter")
    page.locator("#feedback .feedback-note").wait_for()
    assert "此前已在本馆归还" in page.locator("#feedback").inner_text()
    assert page.locator("#recent tbody tr").count() == 1
    # an unknown barcode is said clearly
    page.keyboard.type("NOPE-0001")
    page.keyboard.press("Enter")
    page.locator("#feedback.feedback-error").wait_for()
    assert "条码不存在" in page.locator("#feedback").inner_text()
    assert page.locator("#recent tbody tr").count() == 2
