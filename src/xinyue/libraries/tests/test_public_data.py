"""Member libraries' public data: what the bundled file holds reaches old and new databases
without overwriting what a library entered; the deposit is a per-library setting shown honestly
when unknown; the public library pages and the refusal's deposit alternative show it."""

from __future__ import annotations

import csv
from importlib import import_module

import pytest
from django.apps import apps

from xinyue.core.actors import SYSTEM
from xinyue.core.errors import InvalidInput
from xinyue.libraries.divisions import BUNDLED_FILE
from xinyue.libraries.models import Library
from xinyue.libraries.services import load_library_file, update_library
from xinyue.libraries.settings_schema import clean_settings

migration = import_module("xinyue.libraries.migrations.0003_opening_hours")


def bundled_rows() -> dict[str, dict]:
    with BUNDLED_FILE.open(encoding="utf-8") as handle:
        return {row["code"]: row for row in csv.DictReader(handle)}


def test_the_bundled_file_holds_the_province_and_eleven_cities_and_no_made_up_phone():
    rows = bundled_rows()
    assert len(rows) == 102
    assert [r["code"] for r in rows.values() if r["level"] in ("province", "city")] == [
        "330000", "330100", "330200", "330300", "330400", "330500",
        "330600", "330700", "330800", "330900", "331000", "331100",
    ]  # fmt: skip
    assert rows["330000"]["address"] == "杭州市西湖区曙光路73号"
    assert rows["330200"]["address"] == "宁波市鄞州区宁穿路2100号"
    # A phone or opening time is filled only where data/README.md names a published source;
    # none of the phones was found, and of the hours only Ningbo's.
    assert {r["phone"] for r in rows.values()} == {""}
    assert {c: r["opening_hours"] for c, r in rows.items() if r["opening_hours"]} == {
        "330200": "周一 13:00–21:00，周二至周日 9:00–21:00",
    }


def test_the_migration_fills_only_empty_fields(zhejiang):
    Library.objects.filter(code="330200").update(address="", opening_hours="")
    Library.objects.filter(code="330300").update(address="温州市图书馆新馆（馆员录入）")
    migration.fill_public_data(apps, None)
    assert Library.objects.get(code="330200").address == "宁波市鄞州区宁穿路2100号"
    assert Library.objects.get(code="330300").address == "温州市图书馆新馆（馆员录入）"


def test_reloading_the_file_never_erases_a_librarys_own_contacts(zhejiang, hz_admin):
    hangzhou = Library.objects.get(code="330100")
    update_library(
        actor=hz_admin,
        library=hangzhou,
        phone="0571-00000000",
        opening_hours="周二至周日  9:00–17:00",
    )
    load_library_file(actor=SYSTEM)
    hangzhou.refresh_from_db()
    assert (hangzhou.phone, hangzhou.opening_hours) == ("0571-00000000", "周二至周日 9:00–17:00")


@pytest.mark.parametrize(("value", "ok"), [(None, True), (0, True), (10_000, True), (100_000, True), (-1, False), (True, False), ("100", False), (100_001, False)])  # fmt: skip
def test_the_deposit_setting_is_fen_or_unknown(value, ok):
    if ok:
        assert clean_settings({"deposit_fen": value}) == {"deposit_fen": value}
    else:
        with pytest.raises(InvalidInput) as refused:
            clean_settings({"deposit_fen": value})
        assert refused.value.fields == {"deposit_fen": "押金应为 0 至 1000 元，不知道时留空"}


def test_the_public_pages_show_contacts_and_an_honest_deposit(client, zhejiang):
    directory = client.get("/libraries/").content.decode()
    assert directory.count('class="card" id="city-') == 12
    assert "宁波市鄞州区宁穿路2100号" in directory
    page = client.get("/libraries/330200/").content.decode()
    assert '<dd class="address">宁波市鄞州区宁穿路2100号</dd>' in page
    assert '<dd class="hours">周一 13:00–21:00，周二至周日 9:00–21:00</dd>' in page
    wenzhou = client.get("/libraries/330300/").content.decode()
    assert '<dd class="hours">以馆内公告为准</dd>' in wenzhou
    assert '<dd class="deposit">以馆内公告为准</dd>' in page
    assert '<dd class="phone">暂无</dd>' in page
    ningbo = Library.objects.get(code="330200")
    update_library(actor=SYSTEM, library=ningbo, settings_values={"deposit_fen": 10_000})
    page = client.get("/libraries/330200/").content.decode()
    assert '<dd class="deposit">¥100.00</dd>' in page
    update_library(actor=SYSTEM, library=ningbo, settings_values={"deposit_fen": 0})
    assert '<dd class="deposit">无需押金</dd>' in client.get("/libraries/330200/").content.decode()
    assert client.get("/libraries/999999/").status_code == 404


def test_the_console_form_takes_the_deposit_in_yuan_and_the_opening_hours(logged_in, hz_admin_user):
    client = logged_in(hz_admin_user)
    form = {
        "name": "杭州图书馆", "address": "", "phone": "", "opening_hours": "周一至周日 9:00–21:00",
        "deposit_fen": "¥100", "is_active": "on", "card_prefix": "", "link_card_check": "staff",
        "sip2_host": "", "sip2_port": "6001", "sip2_encoding": "utf-8", "sip2_institution_id": "",
        "sip2_location_code": "", "sip2_login_user": "", "rest_verify_url": "",
    }  # fmt: skip
    assert client.post("/console/libraries/330100/", form).status_code == 302
    hangzhou = Library.objects.get(code="330100")
    assert (hangzhou.settings["deposit_fen"], hangzhou.opening_hours) == (
        10_000,
        form["opening_hours"],
    )
    assert 'value="100.00"' in client.get("/console/libraries/330100/").content.decode()
    bad = client.post("/console/libraries/330100/", {**form, "deposit_fen": "-5"})
    assert bad.status_code == 422
    assert "金额不能为负数" in bad.content.decode()
    assert Library.objects.get(code="330100").settings["deposit_fen"] == 10_000
    client.post("/console/libraries/330100/", {**form, "deposit_fen": ""})
    assert Library.objects.get(code="330100").settings["deposit_fen"] is None
