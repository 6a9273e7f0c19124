"""A new reader in real Chromium: register, see the masked account, grant and withdraw a consent,
log out, fail to log in, log in, and never see their ID number, name or phone in clear."""

from __future__ import annotations

import pytest

from xinyue.readers.models import Reader

PERSON = {"id_number": "330106199203150043", "name": "陈书悦", "phone": "13655557777"}
PASSWORD = "turn-the-page-3"


def visible_text_has_no_clear_pii(page) -> None:
    html = page.content()
    for value in PERSON.values():
        assert value not in html


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_register_account_consents_login(page, zhejiang):
    page.goto("/reader/register/")
    page.fill("#id_id_number", PERSON["id_number"])
    page.fill("#id_name", PERSON["name"])
    page.fill("#id_phone", PERSON["phone"])
    page.fill("#id_password", PASSWORD)
    page.fill("#id_password2", PASSWORD)
    page.check("#id_consent_id_number")
    page.click("#register-submit")
    page.wait_for_url("**/account/")
    assert page.locator("#me-id-number").inner_text() == "330***********0043"
    assert page.locator("#me-name").inner_text() == "陈**"
    assert page.locator("#me-phone").inner_text().startswith("136****7777")
    visible_text_has_no_clear_pii(page)

    credit = page.locator('li.consent[data-purpose="credit_check"]')
    assert "未授权" in credit.inner_text()
    credit.get_by_role("button", name="同意授权").click()
    page.wait_for_url("**/account/")
    credit = page.locator('li.consent[data-purpose="credit_check"]')
    assert "授权" in credit.inner_text()
    assert credit.get_by_role("button", name="撤回授权").is_visible()
    credit.get_by_role("button", name="撤回授权").click()
    page.wait_for_url("**/account/")
    assert "撤回" in page.locator('li.consent[data-purpose="credit_check"] .hint').inner_text()

    page.click("#reader-logout")
    page.wait_for_url("**/")
    page.goto("/account/")
    page.wait_for_url("**/reader/login/?next=/account/")
    page.fill("#id_id_number", PERSON["id_number"])
    page.fill("#id_password", "not-my-password")
    page.click("#login-submit")
    assert "身份证号或密码不正确" in page.locator("form .error").inner_text()
    # What was typed is kept, except the password.
    assert page.locator("#id_id_number").input_value() == PERSON["id_number"]
    assert page.locator("#id_password").input_value() == ""
    page.fill("#id_password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_url("**/account/")
    assert page.locator("#me-name").inner_text() == "陈**"
    visible_text_has_no_clear_pii(page)
    reader = Reader.objects.get()
    assert list(reader.consents.values_list("purpose", "ended_reason")) == [
        ("id_number", ""),
        ("credit_check", "withdrawn"),
    ]
