"""Kiosk accounts: created and changed by a library's admin, validated, audited; the page."""

from __future__ import annotations

import pytest
from django.contrib.auth.hashers import check_password

from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.sip2.models import KioskAccount
from xinyue.sip2.services import (
    authenticate_kiosk,
    change_kiosk_account,
    create_kiosk_account,
    kiosk_actor,
)

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, int]:
    return KioskAccount.objects.count(), AuditEntry.objects.count()


def test_admin_creates_a_kiosk_account_with_a_hashed_password(hz_admin, hangzhou):
    account = create_kiosk_account(
        actor=hz_admin,
        library=hangzhou,
        login="hz-kiosk-1",
        password="kiosk-pass-1",
        charset="gb18030",
        location_code="floor-2",
        error_detection=False,
    )
    account.refresh_from_db()
    assert account.library == hangzhou
    assert account.charset == "gb18030"
    assert account.error_detection is False
    assert account.password != "kiosk-pass-1"
    assert check_password("kiosk-pass-1", account.password)
    entry = AuditEntry.objects.get(action="kiosk.created")
    assert entry.library_code == "330100"
    assert entry.object_id == str(account.pk)
    assert entry.detail["login"] == "hz-kiosk-1"
    assert "kiosk-pass-1" not in str(entry.detail)


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"login": "a|b"}, "login"),
        ({"login": "机"}, "login"),
        ({"password": "short"}, "password"),
        ({"password": "密码密码密码密码"}, "password"),
        ({"charset": "big5"}, "charset"),
        ({"location_code": "a b"}, "location_code"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(hz_admin, hangzhou, fields, bad):
    before = snapshot()
    values = {"login": "hz-kiosk-1", "password": "kiosk-pass-1", "charset": "gbk"} | fields
    with pytest.raises(InvalidInput) as refused:
        create_kiosk_account(actor=hz_admin, library=hangzhou, **values)
    assert list(refused.value.fields) == [bad]
    assert snapshot() == before


def test_a_login_is_unique_across_the_province(hz_admin, nb_admin, hangzhou, ningbo):
    create_kiosk_account(actor=hz_admin, library=hangzhou, login="k-1", password="kiosk-pass-1")
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        create_kiosk_account(actor=nb_admin, library=ningbo, login="k-1", password="kiosk-pass-2")
    assert refused.value.fields == {"login": "登录名已被使用"}
    assert snapshot() == before


def test_desk_staff_and_other_libraries_admins_are_refused(hz_desk, nb_admin, hangzhou):
    before = snapshot()
    for actor in (hz_desk, nb_admin):
        with pytest.raises(PermissionDenied):
            create_kiosk_account(
                actor=actor, library=hangzhou, login="k-2", password="kiosk-pass-1"
            )
    assert snapshot() == before


def test_change_disables_and_sets_a_new_password(hz_admin, hangzhou):
    account = create_kiosk_account(
        actor=hz_admin, library=hangzhou, login="k-3", password="kiosk-pass-1"
    )
    assert authenticate_kiosk(login="k-3", password="kiosk-pass-1") == account
    change_kiosk_account(
        actor=hz_admin,
        account=account,
        charset="utf-8",
        location_code="",
        error_detection=True,
        is_active=True,
        password="kiosk-pass-new",
    )
    assert authenticate_kiosk(login="k-3", password="kiosk-pass-1") is None
    assert authenticate_kiosk(login="k-3", password="kiosk-pass-new") == account
    change_kiosk_account(
        actor=hz_admin,
        account=account,
        charset="utf-8",
        location_code="",
        error_detection=True,
        is_active=False,
    )
    assert authenticate_kiosk(login="k-3", password="kiosk-pass-new") is None
    changes = [e.detail for e in AuditEntry.objects.filter(action="kiosk.changed").order_by("id")]
    assert changes[0]["changed"] == {"charset": ["gbk", "utf-8"]}
    assert changes[0]["password_changed"] is True
    assert changes[1]["changed"] == {"is_active": [True, False]}


def test_the_kiosk_acts_for_its_library_through_the_kiosk_channel(hz_admin, hangzhou):
    account = create_kiosk_account(
        actor=hz_admin, library=hangzhou, login="k-4", password="kiosk-pass-1"
    )
    actor = kiosk_actor(account)
    assert actor.ref == f"kiosk:{account.pk}"
    assert actor.library_id == hangzhou.pk
    assert actor.channel.value == "kiosk"


def test_the_console_page_creates_an_account(logged_in, hz_admin_user, hangzhou):
    client = logged_in(hz_admin_user)
    response = client.post(
        "/console/libraries/330100/kiosks/",
        {
            "login": "page-kiosk",
            "password": "kiosk-pass-1",
            "charset": "gbk",
            "location_code": "hall",
            "error_detection": "on",
        },
    )
    assert response.status_code == 302
    account = KioskAccount.objects.get(login="page-kiosk")
    assert account.library == hangzhou
    page = client.get("/console/libraries/330100/kiosks/").content.decode()
    assert "page-kiosk" in page
    refused = client.post(
        "/console/libraries/330100/kiosks/",
        {"login": "x", "password": "kiosk-pass-1", "charset": "gbk"},
    )
    assert refused.status_code == 422
    assert KioskAccount.objects.count() == 1
