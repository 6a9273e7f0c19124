"""Cards in real headless Chromium: a reader who is not admitted is refused with the ways forward,
asks the library for a review, the desk approves it, and the reader gets the card with its QR."""

from __future__ import annotations

import pytest

from xinyue.accounts.services import create_staff_user
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.readers.services.identity import register_reader
from xinyue.readers.tests.identities import ALICE

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

STAFF_PASSWORD = "desk-password-42"


def log_in_reader(page) -> None:
    page.goto("/cards/new/")
    page.wait_for_url("**/reader/login/**")
    page.fill("input[name=id_number]", ALICE["id_number"])
    page.fill("input[name=password]", ALICE["password"])
    page.click("#login-submit")
    page.wait_for_url("**/cards/new/")


def test_refused_review_approved_then_card_with_qr(page, browser, live_server, zhejiang):
    register_reader(**ALICE)
    hangzhou = Library.objects.get(code="330100")
    create_staff_user(
        actor=SYSTEM, library=hangzhou, username="hzdesk", password=STAFF_PASSWORD, role="desk"
    )
    log_in_reader(page)
    assert "尚未完成信用授权" in page.locator(".eligibility").inner_text()
    page.get_by_role("link", name="杭州").click()
    page.locator('.library-row[data-code="330100"] button').click()
    page.wait_for_url("**/cards/new/")
    assert page.locator("h1").inner_text() == "暂不能免押金办证"
    codes = page.locator(".alternative").evaluate_all("els => els.map(e => e.dataset.code)")
    assert codes == ["authorize", "link_card", "manual_review", "deposit_card"]
    page.fill("textarea[name=message]", "刚来杭州工作")
    page.get_by_role("button", name="向 杭州图书馆 申请审核").click()
    page.wait_for_url("**/cards/")
    assert "已向 杭州图书馆 提交人工审核申请" in page.locator(".messages").inner_text()

    # the library's desk approves it in the console (its own browser session)
    staff = browser.new_context(locale="zh-CN", base_url=live_server.url)
    desk = staff.new_page()
    desk.goto("/login/")
    desk.fill("input[name=username]", "hzdesk")
    desk.fill("input[name=password]", STAFF_PASSWORD)
    desk.locator("form button.primary").click()
    desk.goto("/console/desk/requests/")
    row = desk.locator("#reviews tbody tr").first
    assert "林**" in row.inner_text()
    row.get_by_role("button", name="通过", exact=True).click()
    assert "已通过审核" in desk.locator(".messages").inner_text()
    staff.close()

    page.goto("/cards/")
    page.get_by_role("button", name="立即办证").click()
    page.wait_for_url("**/cards/330100/")
    assert page.locator("#card-number").inner_text() == "33010000000001"
    qr = page.locator(".qr svg.card-qr")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box is not None
    assert box["width"] > 100
