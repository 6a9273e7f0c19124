"""The operator and library consoles as real pages."""

from __future__ import annotations

import re

import pytest
from conftest import PASSWORD
from django.conf import settings
from django.test import Client

from xinyue.accounts.models import ApiKey, User
from xinyue.core.models import AuditEntry


@pytest.mark.django_db
def test_staff_log_in_through_the_login_page(client, hz_admin_user):
    response = client.post("/login/", {"username": "hz_admin", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/console/"
    page = client.get("/console/").content.decode()
    assert "杭州图书馆" in page
    wrong = Client().post("/login/", {"username": "hz_admin", "password": "nope"})
    assert wrong.status_code == 401
    assert "_auth_user_id" not in wrong.wsgi_request.session


@pytest.mark.django_db
def test_staff_login_errors_name_the_field_and_keep_the_user_name(client, hz_admin_user):
    empty = client.post("/login/", {"username": "", "password": ""}).content.decode()
    assert '<div class="error" id="error-username">请填写用户名</div>' in empty
    assert '<div class="error" id="error-password">请填写密码</div>' in empty
    assert "这个字段是必填项" not in empty
    wrong = client.post("/login/", {"username": "hz_admin", "password": "not-it-123"})
    html = wrong.content.decode()
    assert "用户名或密码不正确（区分大小写），请核对后再试" in html
    assert 'value="hz_admin"' in html
    assert "not-it-123" not in html
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english = client.post("/login/", {"username": "hz_admin", "password": ""}).content.decode()
    assert '<div class="error" id="error-password">Please enter your password</div>' in english


@pytest.mark.django_db
def test_console_requires_login(client):
    response = client.get("/console/")
    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.django_db
def test_operator_adds_staff_to_any_library(logged_in, operator_user, hangzhou, zhejiang):
    client = logged_in(operator_user)
    page = client.get("/console/libraries/").content.decode()
    assert page.count('<tr class="level-') == 102
    response = client.post(
        "/console/staff/",
        {"library": hangzhou.pk, "username": "hz_new", "role": "desk", "password": PASSWORD},
    )
    assert response.status_code == 302
    assert User.objects.get(username="hz_new").library == hangzhou


@pytest.mark.django_db
def test_staff_form_errors_name_the_field_and_change_nothing(logged_in, hz_admin_user):
    client = logged_in(hz_admin_user)
    response = client.post(
        "/console/staff/", {"username": "hz_admin", "role": "desk", "password": PASSWORD}
    )
    assert response.status_code == 422
    assert "该用户名已被使用" in response.content.decode()
    response = client.post(
        "/console/staff/", {"username": "x1", "role": "desk", "password": "12345678"}
    )
    assert response.status_code == 422
    assert "password" in response.content.decode() or "密码" in response.content.decode()
    assert not User.objects.filter(username="x1").exists()


@pytest.mark.django_db
def test_operator_creates_and_revokes_an_api_key_in_the_console(logged_in, operator_user, hangzhou):
    client = logged_in(operator_user)
    response = client.post(
        "/console/api-keys/",
        {"name": "杭州 ILS", "scope": "library", "library": hangzhou.pk, "role": "desk"},
    )
    token = re.search(r"xy_[0-9a-f]{8}_[A-Za-z0-9_-]+", response.content.decode()).group(0)
    key = ApiKey.objects.get()
    assert token.split("_")[1] == key.prefix
    assert token.split("_", 2)[2] not in key.secret_hash
    client.post(f"/console/api-keys/{key.pk}/revoke/")
    key.refresh_from_db()
    assert key.revoked_at is not None
    actions = list(
        AuditEntry.objects.filter(action__startswith="api_key").values_list("action", flat=True)
    )
    assert sorted(actions) == ["api_key.created", "api_key.revoked"]


@pytest.mark.django_db
def test_create_api_key_command_prints_the_token_once(hangzhou, capsys):
    from django.core.management import call_command

    call_command("create-api-key", "--name", "Hangzhou ILS", "--library", "330100")
    token = capsys.readouterr().out.strip()
    key = ApiKey.objects.get()
    assert token.startswith(f"xy_{key.prefix}_")
    assert (key.scope, key.library, key.role) == ("library", hangzhou, "desk")
    call_command("create-api-key", "--revoke", key.prefix)
    key.refresh_from_db()
    assert key.revoked_at is not None


@pytest.mark.django_db
def test_audit_page_is_operator_only(logged_in, operator_user, hz_admin_user):
    client = logged_in(hz_admin_user)
    assert client.get("/console/audit/").status_code == 403
    client = logged_in(operator_user)
    assert client.get("/console/audit/").status_code == 200
