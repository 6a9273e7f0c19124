"""The demo's SIP2 kiosks: created once (a second seed changes nothing) and able to log in."""

from __future__ import annotations

import io

import pytest

from xinyue.sip2 import demo
from xinyue.sip2.models import KioskAccount
from xinyue.sip2.services import authenticate_kiosk

pytestmark = pytest.mark.django_db


def test_seed_makes_two_kiosks_once(zhejiang):
    first = demo.seed(options={}, stdout=io.StringIO())
    second = demo.seed(options={}, stdout=io.StringIO())
    assert first == second
    assert [row[1] for row in first] == ["hz-kiosk-1", "nb-kiosk-1"]
    assert list(KioskAccount.objects.order_by("login").values_list("login", "charset")) == [
        ("hz-kiosk-1", "gbk"),
        ("nb-kiosk-1", "utf-8"),
    ]
    account = authenticate_kiosk(login="hz-kiosk-1", password=demo.KIOSK_PASSWORD)
    assert account is not None
    assert account.library.code == "330100"
    assert authenticate_kiosk(login="hz-kiosk-1", password="wrong") is None
