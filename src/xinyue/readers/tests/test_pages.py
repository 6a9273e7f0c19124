"""Reader pages: register, log in/out, my account, consents, phone, export, delete, outbox."""

from __future__ import annotations

import json
import re

import pytest
from django.conf import settings
from django.test import Client

from xinyue.accounts.selectors import actor_for_user
from xinyue.cards.tests.factories import CardFactory
from xinyue.core.models import AuditEntry
from xinyue.readers.models import Reader, SmsOutboxMessage
from xinyue.readers.selectors import reader_from_request
from xinyue.readers.services import rights
from xinyue.readers.tests.identities import ALICE, ALICE_ID

FORM = {
    "id_number": ALICE["id_number"],
    "name": ALICE["name"],
    "phone": ALICE["phone"],
    "password": ALICE["password"],
    "password2": ALICE["password"],
    "consent_id_number": "on",
}
OPEN_LOANS: list[str] = []


def open_loans(*, reader: Reader) -> list[str]:
    """An obligation checker as a later app (circulation) would register it."""
    return list(OPEN_LOANS)


def login(client: Client, password: str = ALICE["password"], **extra) -> object:
    return client.post("/reader/login/", {"id_number": ALICE_ID, "password": password}, **extra)


@pytest.mark.django_db
class TestRegisterAndLogin:
    def test_register_logs_in_and_shows_masked_account(self, client):
        response = client.post("/reader/register/", {**FORM, "consent_credit_check": "on"})
        assert response.status_code == 302
        assert response["Location"] == "/account/"
        reader = Reader.objects.get()
        page = client.get("/account/")
        html = page.content.decode()
        assert page.status_code == 200
        assert "330***********0026" in html
        assert "林**" in html
        assert "138****5678" in html
        assert ALICE_ID not in html
        assert "林晓雨" not in html
        assert "13812345678" not in html
        assert page.wsgi_request.user == reader.user
        assert [c.purpose for c in reader.consents.all()] == ["id_number", "credit_check"]

    def test_register_error_keeps_what_was_typed_except_the_password(self, client):
        response = client.post("/reader/register/", {**FORM, "id_number": "330106199001010027"})
        html = response.content.decode()
        assert response.status_code == 422
        assert '<div class="error" id="error-id_number">身份证号校验位不正确，请核对</div>' in html
        assert 'value="330106199001010027"' in html
        assert 'value="林晓雨"' in html
        assert 'value="13812345678"' in html
        assert ALICE["password"] not in html
        # The page holds what the reader typed: no cache may keep it.
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]
        assert Reader.objects.count() == 0

    def test_empty_register_form_says_per_field_what_is_missing(self, client):
        # What a browser sends for an untouched form: every text field, empty.
        empty = dict.fromkeys(("id_number", "name", "phone", "password", "password2"), "")
        response = client.post("/reader/register/", empty)
        html = response.content.decode()
        assert response.status_code == 422
        expected = {
            "id_number": "请填写身份证号",
            "name": "请填写姓名",
            "phone": "请填写手机号",
            "password": "请设置密码",
            "password2": "请再次输入密码",
            "consent_id_number": "请勾选此项：注册需要处理身份证号以核实身份",
        }
        for field, message in expected.items():
            assert f'<div class="error" id="error-{field}">{message}</div>' in html, field
        assert "这个字段是必填项" not in html
        assert Reader.objects.count() == 0

    def test_too_long_values_are_named_not_generic(self, client):
        response = client.post(
            "/reader/register/",
            {**FORM, "name": "林" * 31, "phone": "1" * 21, "id_number": "3" * 25, "password": "x"},
        )
        html = response.content.decode()
        assert response.status_code == 422
        assert '<div class="error" id="error-name">姓名最多30个字</div>' in html
        assert '<div class="error" id="error-phone">手机号应为11位，以1开头</div>' in html
        assert (
            '<div class="error" id="error-id_number">身份证号应为18位（或15位旧号）</div>' in html
        )
        assert '<div class="error" id="error-password">密码至少8位</div>' in html
        assert "确保该变量" not in html
        assert f'value="{"林" * 31}"' in html
        assert Reader.objects.count() == 0

    def test_register_errors_in_english(self, client):
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
        response = client.post("/reader/register/", {**FORM, "name": "", "phone": "12"})
        html = response.content.decode()
        assert response.status_code == 422
        assert '<div class="error" id="error-name">Please enter your name</div>' in html
        assert (
            '<div class="error" id="error-phone">'
            "The mobile number must have 11 digits and start with 1</div>"
        ) in html
        assert f'value="{ALICE_ID}"' in html

    def test_login_errors_keep_the_id_number_and_name_the_field(self, client, alice):
        response = client.post("/reader/login/", {"id_number": ALICE_ID, "password": ""})
        html = response.content.decode()
        assert response.status_code == 422
        assert '<div class="error" id="error-password">请填写密码</div>' in html
        assert f'value="{ALICE_ID}"' in html
        assert "no-store" in response["Cache-Control"]
        response = client.post("/reader/login/", {"id_number": "", "password": "whatever-1"})
        html = response.content.decode()
        assert '<div class="error" id="error-id_number">请填写身份证号</div>' in html
        assert "whatever-1" not in html

    def test_register_needs_the_id_number_consent(self, client):
        form = {k: v for k, v in FORM.items() if k != "consent_id_number"}
        response = client.post("/reader/register/", form)
        assert response.status_code == 422
        assert Reader.objects.count() == 0

    def test_passwords_must_match(self, client):
        response = client.post("/reader/register/", {**FORM, "password2": "something-else-1"})
        assert response.status_code == 422
        assert "两次输入的密码不一致" in response.content.decode()

    def test_login_logout(self, client, alice):
        response = client.post(
            "/reader/login/?next=/cards/", {"id_number": ALICE_ID, "password": ALICE["password"]}
        )
        assert response.status_code == 302
        client.post("/reader/logout/")
        assert client.get("/account/")["Location"] == "/reader/login/?next=/account/"

    def test_login_next_is_kept_and_foreign_hosts_refused(self, client, alice):
        response = client.post(
            "/reader/login/",
            {"id_number": ALICE_ID, "password": ALICE["password"], "next": "https://evil.example/"},
        )
        assert response["Location"] == "/account/"
        client.post("/reader/logout/")
        response = client.post(
            "/reader/login/",
            {"id_number": ALICE_ID, "password": ALICE["password"], "next": "/cards/"},
        )
        assert response["Location"] == "/cards/"

    def test_wrong_password_then_throttled(self, client, alice):
        for _ in range(5):
            response = login(client, "wrong-password")
            assert response.status_code == 401
            assert "身份证号或密码不正确" in response.content.decode()
            # Kept in its box for the next try (the password is not).
            assert f'name="id_number" value="{ALICE_ID}"' in response.content.decode()
        response = login(client)
        assert response.status_code == 429
        assert "登录失败次数过多，请 15 分钟后再试" in response.content.decode()
        assert reader_from_request(response.wsgi_request) is None

    def test_staff_login_page_cannot_log_a_reader_in(self, client, alice):
        response = client.post(
            "/login/", {"username": alice.user.username, "password": ALICE["password"]}
        )
        assert response.status_code == 401  # the form again, with an error
        assert not response.wsgi_request.user.is_authenticated

    def test_session_actor_is_the_reader(self, alice, logged_in):
        client = logged_in(alice.user)
        actor = actor_for_user(alice.user)
        assert (actor.kind.value, actor.reader_id) == ("reader", alice.pk)
        response = client.get("/api/v1/readers/me")
        assert response.status_code == 200
        assert response.json()["name"] == "林**"


@pytest.mark.django_db
class TestAccount:
    def test_consents_grant_and_withdraw(self, client, alice):
        login(client)
        client.post("/account/consents/share_borrowing/", {"action": "grant"})
        client.post("/account/consents/share_borrowing/", {"action": "withdraw"})
        consent = alice.consents.get(purpose="share_borrowing")
        assert consent.withdrawn_at is not None
        assert consent.ended_reason == "withdrawn"
        page = client.get("/account/consents/share_borrowing/")
        assert "向信用服务机构提供借阅记录的单独同意" in page.content.decode()
        assert client.get("/account/consents/nonsense/").status_code == 404

    def test_export_needs_the_password_and_is_audited(self, client, alice):
        login(client)
        response = client.post("/account/export/", {"password": "wrong-password"})
        assert response.status_code == 422
        assert not AuditEntry.objects.filter(action="reader.exported").exists()
        response = client.post("/account/export/", {"password": ALICE["password"]})
        assert response.status_code == 200
        assert response["Content-Disposition"].startswith('attachment; filename="xinyue-my-data-')
        data = json.loads(response.content)
        assert (data["reader"]["id_number"], data["reader"]["name"], data["reader"]["phone"]) == (
            ALICE_ID,
            "林晓雨",
            "13812345678",
        )
        entry = AuditEntry.objects.get(action="reader.exported")
        assert entry.detail == {"revealed": True}

    def test_delete_blocked_by_open_obligations(self, client, alice):
        remove_hook = rights.obligations.register(open_loans)
        OPEN_LOANS[:] = ["还有 1 册图书未归还"]
        try:
            login(client)
            page = client.get("/account/delete/")
            assert "还有 1 册图书未归还" in page.content.decode()
            response = client.post("/account/delete/", {"password": ALICE["password"]})
            assert response.status_code == 422
            assert "还有 1 册图书未归还" in response.content.decode()
            alice.refresh_from_db()
            assert alice.is_active
            assert alice.deleted_at is None
            assert alice.name_ct
        finally:
            OPEN_LOANS.clear()
            remove_hook()

    def test_delete_erases_cancels_cards_and_logs_out(self, client, alice, hangzhou):

        card = CardFactory(reader=alice, library=hangzhou, deposit_fen=10000)
        login(client)
        response = client.post("/account/delete/", {"password": ALICE["password"]})
        assert response.status_code == 302
        alice.refresh_from_db()
        card.refresh_from_db()
        assert (alice.is_active, alice.id_number_index, alice.name_ct, alice.region_code) == (
            False,
            None,
            "",
            "",
        )
        assert (alice.gender, alice.birth_year) == ("female", 1990)
        assert (card.status, card.status_reason) == ("cancelled", "读者注销账户")
        assert [c.ended_reason for c in alice.consents.all()] == ["account_deleted"]
        assert not alice.user.is_active
        assert client.get("/account/").status_code == 302
        assert AuditEntry.objects.filter(action="reader.deleted").count() == 1

    def test_change_password_keeps_this_session_and_ends_tokens(self, client, alice):
        from xinyue.readers.services.tokens import issue_reader_token, token_row

        _row, token = issue_reader_token(reader=alice)
        login(client)
        response = client.post(
            "/account/password/",
            {"old_password": ALICE["password"], "new_password": "brand-new-pass-9"},
        )
        assert response.status_code == 302
        assert client.get("/account/").status_code == 200
        assert token_row(token) is None
        client.post("/reader/logout/")
        assert login(client, "brand-new-pass-9").status_code == 302


@pytest.mark.django_db
class TestPhoneVerification:
    def test_off_by_default(self, client, alice):
        login(client)
        assert "发送验证码" not in client.get("/account/").content.decode()
        assert client.get("/dev/sms-outbox/").status_code == 404

    def test_code_by_outbox(
        self, client, settings, django_capture_on_commit_callbacks, operator_user
    ):
        settings.XINYUE_SMS_VERIFICATION = True
        with django_capture_on_commit_callbacks(execute=True):
            client.post("/reader/register/", FORM)
        message = SmsOutboxMessage.objects.get()
        assert message.phone_masked == "138****5678"
        code = re.search(r"验证码是 (\d{6})", message.text).group(1)
        page = client.get("/account/").content.decode()
        assert "发送验证码" in page
        client.post(
            "/account/phone/",
            {"action": "verify", "code": "000000" if code != "000000" else "111111"},
        )
        assert Reader.objects.get().phone_verified_at is None
        client.post("/account/phone/", {"action": "verify", "code": code})
        assert Reader.objects.get().phone_verified_at is not None
        # The dev outbox page: not for readers or strangers, only the operator (or DEBUG).
        assert client.get("/dev/sms-outbox/").status_code == 404
        operator = Client()
        operator.force_login(operator_user)
        outbox = operator.get("/dev/sms-outbox/").content.decode()
        assert "138****5678" in outbox
        assert code in outbox
