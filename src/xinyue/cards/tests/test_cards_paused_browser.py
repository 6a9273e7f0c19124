"""On a phone (real Chromium, 390×844): a card whose credit borrowing is paused says so where the
reader looks, and the link leads to the consent to give again."""

from __future__ import annotations

import pytest

from xinyue.cards.models import ManualReview
from xinyue.cards.services.issuing import approve_manual_review, issue_credit_card
from xinyue.readers.services.consents import grant_consent, withdraw_consent
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.tests.identities import ALICE, ALICE_ID


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_paused_credit_borrowing_is_visible_on_the_card(page, alice, hangzhou, hz_desk):
    me = reader_actor(alice)
    for purpose in ("credit_check", "share_borrowing"):
        grant_consent(actor=me, reader=alice, purpose=purpose)
    review = ManualReview.objects.create(reader=alice, library=hangzhou)
    approve_manual_review(actor=hz_desk, review=review)
    issue_credit_card(actor=me, reader=alice, library=hangzhou)
    withdraw_consent(actor=me, reader=alice, purpose="share_borrowing")

    page.goto("/reader/login/")
    page.fill("#id_id_number", ALICE_ID)
    page.fill("#id_password", ALICE["password"])
    page.click("#login-submit")
    page.wait_for_url("**/account/")
    page.goto("/cards/330100/")
    tag = page.locator("#credit-paused-tag")
    assert tag.inner_text() == "信用借书已暂停"
    notice = page.locator("#credit-paused")
    assert notice.is_visible()
    box = notice.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    notice.locator("a").click()
    page.wait_for_url("**/account/consents/share_borrowing/")
