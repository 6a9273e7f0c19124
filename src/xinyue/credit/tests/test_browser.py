"""In real Chromium: a reader authorizes credit on the sandbox's confirm page and comes back to
the result (admitted at 600, refused with the ways forward at 549); the result page polls."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from xinyue.credit.models import CreditAuthorization
from xinyue.credit.tests.conftest import READERS, make_reader

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def log_in(page, next_path="/credit/"):
    page.goto(f"/reader/login/?next={next_path}")
    page.fill("input[name=id_number]", READERS["lin"]["id_number"])
    page.fill("input[name=password]", READERS["lin"]["password"])
    page.click("#login-submit")
    page.wait_for_url(f"**{next_path}")


def test_consent_authorize_and_come_back_admitted(page, live):
    make_reader(consents=("id_number", "share_borrowing"))
    log_in(page)
    expect(page.locator("input[name=provider][value=sandbox]")).to_be_checked()
    page.check("input[name=consent]")
    page.click("#start-authorization")
    page.wait_for_url("**/sandbox/zhima/gateway.do?**")
    expect(page.locator("h1")).to_have_text("授权芝麻信用评估")
    page.fill("input[name=score]", "600")
    page.click("button[value=approve]")
    page.wait_for_url("**/credit/authorizations/*/")
    expect(page.locator("#credit-status")).to_have_attribute("data-status", "admitted")
    expect(page.locator("#get-card")).to_be_visible()


def test_refused_at_549_shows_the_ways_forward(page, live):
    make_reader()
    log_in(page)
    page.click("#start-authorization")
    page.wait_for_url("**/sandbox/zhima/gateway.do?**")
    page.fill("input[name=score]", "549")
    page.click("button[value=approve]")
    page.wait_for_url("**/credit/authorizations/*/")
    expect(page.locator("#credit-status")).to_have_attribute("data-status", "refused")
    expect(page.locator("#refusal-reason")).to_contain_text("未达到平台准入分（550）")
    expect(page.locator("#alternatives li")).to_have_count(3)
    expect(page.locator("#alternatives")).to_contain_text("到馆办理押金读者证")


def test_the_result_page_polls_until_decided(page, live):
    make_reader()
    log_in(page)
    page.click("#start-authorization")
    page.wait_for_url("**/sandbox/zhima/gateway.do?**")
    authorization = CreditAuthorization.objects.get()
    page.goto(f"/credit/authorizations/{authorization.pk}/")
    expect(page.locator("#credit-status")).to_have_attribute("data-status", "pending")
    live.confirm(authorization.confirm_url, "approve", 700)  # decided elsewhere (the phone)
    expect(page.locator("#credit-status")).to_have_attribute("data-status", "admitted")
