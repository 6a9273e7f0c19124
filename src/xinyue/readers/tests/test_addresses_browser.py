"""A reader adds a delivery address on a phone-sized Chromium: the htmx picker swaps in the
cities and districts as they choose, a wrong phone is named, and the list shows it masked."""

from __future__ import annotations

import pytest

from xinyue.readers.models import Address
from xinyue.readers.selectors.addresses import open_address
from xinyue.readers.tests.identities import ALICE, ALICE_ID


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_reader_adds_an_address_through_the_picker(page, alice):
    page.goto("/account/addresses/")
    page.wait_for_url("**/reader/login/**")
    page.fill("#id_id_number", ALICE_ID)
    page.fill("#id_password", ALICE["password"])
    page.click("#login-submit")
    page.wait_for_url("**/account/addresses/")
    assert page.locator("#no-addresses").is_visible()
    page.click("#add-address")
    page.wait_for_url("**/account/addresses/new/")
    assert page.locator("#id_province").input_value() == "330000"
    assert page.locator('button[name="pick"]').count() == 0  # the no-JavaScript button stays hidden

    page.select_option("#id_city", "330200")  # htmx fetches Ningbo's districts
    page.wait_for_selector('#id_district_code option[value="330212"]', state="attached")
    page.select_option("#id_district_code", "330212")
    page.fill("#id_detail", "宁穿路2100号宁波图书馆")
    page.fill("#id_recipient", "林晓雨")
    page.fill("#id_phone", "12345")
    page.click("#address-save")
    assert page.locator("#error-phone").inner_text() == "收件人手机号应为11位，以1开头"
    assert page.locator("#id_district_code").input_value() == "330212"  # the pick is kept
    assert page.locator("#id_detail").input_value() == "宁穿路2100号宁波图书馆"
    assert Address.objects.count() == 0

    page.fill("#id_phone", "13812345678")
    page.click("#address-save")
    page.wait_for_url("**/account/addresses/")
    item = page.locator("#address-list li").first
    assert "浙江省宁波市鄞州区 宁穿路210…" in item.inner_text()
    assert "林**" in item.inner_text()
    assert "138****5678" in item.inner_text()
    assert "13812345678" not in page.content()
    stored = open_address(Address.objects.get())
    assert (
        stored.district_code,
        stored.detail,
        stored.recipient,
        stored.phone,
        stored.is_default,
    ) == (
        "330212",
        "宁穿路2100号宁波图书馆",
        "林晓雨",
        "13812345678",
        True,
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing wider than the phone
