"""Roles and library isolation: staff of one library can neither see nor change another's data."""

from __future__ import annotations

import pytest
from conftest import PASSWORD, bearer_client

from xinyue.accounts.models import User
from xinyue.accounts.selectors import staff_users
from xinyue.accounts.services import create_api_key, create_staff_user, set_user_active
from xinyue.core.actors import SYSTEM
from xinyue.core.errors import PermissionDenied
from xinyue.libraries.models import WebhookSubscription
from xinyue.libraries.services import subscribe_webhook, update_library


@pytest.mark.django_db
def test_staff_see_only_their_own_library(hz_admin, hz_desk_user, nb_admin_user, operator):
    assert set(staff_users(actor=hz_admin).values_list("username", flat=True)) == {
        "hz_admin",
        "hz_desk",
    }
    assert set(staff_users(actor=operator).values_list("username", flat=True)) == {
        "hz_admin",
        "hz_desk",
        "nb_admin",
    }


@pytest.mark.django_db
def test_library_admin_cannot_change_another_library(hz_admin, ningbo, nb_admin_user):
    with pytest.raises(PermissionDenied):
        create_staff_user(actor=hz_admin, library=ningbo, username="intruder", password=PASSWORD)
    with pytest.raises(PermissionDenied):
        set_user_active(actor=hz_admin, user=nb_admin_user, active=False)
    with pytest.raises(PermissionDenied):
        update_library(actor=hz_admin, library=ningbo, phone="1")
    with pytest.raises(PermissionDenied):
        subscribe_webhook(actor=hz_admin, library=ningbo, url="https://x.example/")
    assert not User.objects.filter(username="intruder").exists()
    nb_admin_user.refresh_from_db()
    assert nb_admin_user.is_active is True
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.django_db
def test_desk_role_cannot_manage_staff(hz_desk, hangzhou):
    with pytest.raises(PermissionDenied):
        create_staff_user(actor=hz_desk, library=hangzhou, username="newbie", password=PASSWORD)
    assert not User.objects.filter(username="newbie").exists()


@pytest.mark.django_db
def test_library_admin_manages_own_staff(hz_admin, hangzhou, hz_desk_user):
    user = create_staff_user(
        actor=hz_admin, library=hangzhou, username="hz_new", password=PASSWORD, role="desk"
    )
    assert (user.library_id, user.role, user.kind) == (hangzhou.pk, "desk", "staff")
    set_user_active(actor=hz_admin, user=hz_desk_user, active=False)
    hz_desk_user.refresh_from_db()
    assert hz_desk_user.is_active is False


@pytest.mark.django_db
def test_api_key_of_library_a_is_refused_on_library_b(
    hz_key_client, hangzhou, ningbo, nb_admin_user
):
    own = hz_key_client.get("/api/v1/libraries/330100/staff")
    assert own.status_code == 200
    other = hz_key_client.get("/api/v1/libraries/330200/staff")
    assert other.status_code == 403
    assert other.json()["code"] == "forbidden"
    patch = hz_key_client.patch(
        "/api/v1/libraries/330200", {"phone": "1"}, content_type="application/json"
    )
    assert patch.status_code == 403
    ningbo.refresh_from_db()
    assert ningbo.phone == ""
    hook = hz_key_client.post(
        "/api/v1/libraries/330200/webhooks",
        {"url": "https://x.example/"},
        content_type="application/json",
    )
    assert hook.status_code == 403
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.django_db
def test_revoked_and_malformed_keys_are_unauthenticated(hangzhou):
    key, token = create_api_key(actor=SYSTEM, name="ils", scope="library", library=hangzhou)
    assert bearer_client(token).get("/api/v1/whoami").json() == {
        "kind": "staff", "label": "API key ils", "library_code": "330100", "supplier_code": None, "roles": ["desk"],
    }  # fmt: skip
    for bad in (token[:-1] + ("x" if token[-1] != "x" else "y"), "xy_nope_nope", "garbage"):
        assert bearer_client(bad).get("/api/v1/whoami").status_code == 401
    from xinyue.accounts.services import revoke_api_key

    revoke_api_key(actor=SYSTEM, api_key=key)
    assert bearer_client(token).get("/api/v1/whoami").status_code == 401


@pytest.mark.django_db
def test_console_pages_respect_isolation(logged_in, hz_admin_user, nb_admin_user, hz_desk_user):
    client = logged_in(hz_admin_user)
    assert client.get("/console/libraries/330100/").status_code == 200
    assert client.get("/console/libraries/330200/").status_code == 403
    assert client.get("/console/libraries/").status_code == 403  # operator only
    assert client.get("/console/api-keys/").status_code == 403
    staff_page = client.get("/console/staff/").content.decode()
    assert "hz_desk" in staff_page
    assert "nb_admin" not in staff_page
    response = client.post(f"/console/staff/{nb_admin_user.pk}/toggle/")
    assert response.status_code == 404
    nb_admin_user.refresh_from_db()
    assert nb_admin_user.is_active is True
