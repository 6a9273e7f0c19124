"""The delivery address book: service rules (inside Zhejiang, named field errors, one default,
sealed PII), the pages (without JavaScript) and the API (masked)."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.utils import translation

from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.libraries import divisions
from xinyue.readers.errors import AddressNotFound
from xinyue.readers.models import Address
from xinyue.readers.selectors.addresses import reader_address, reader_addresses
from xinyue.readers.services.addresses import (
    add_address,
    delete_address,
    set_default_address,
    update_address,
)
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.tests.identities import ALICE, ALICE_ID

HOME = {
    "district_code": "330106",
    "detail": "曙光路73号浙江图书馆",
    "recipient": "林晓雨",
    "phone": "13812345678",
}
OFFICE = {
    "district_code": "330212",
    "detail": "宁穿路2100号",
    "recipient": "王大卫",
    "phone": "13987654321",
}


def snapshot() -> tuple[int, int, list]:
    return (
        Address.objects.count(),
        AuditEntry.objects.count(),
        list(Address.objects.values_list("district_code", "detail_ct", "is_default")),
    )


def test_divisions_follow_the_library_file():
    assert [c.name for c in divisions.cities()][:3] == ["杭州市", "宁波市", "温州市"]
    assert len(divisions.cities()) == 11
    assert sum(len(divisions.districts(c.code)) for c in divisions.cities()) == 90
    assert [d.name for d in divisions.districts("330900")] == [
        "定海区",
        "普陀区",
        "岱山县",
        "嵊泗县",
    ]
    assert divisions.full_name("331127") == "浙江省丽水市景宁畲族自治县"
    assert divisions.full_name("330100") == ""  # a city is not a delivery district
    assert divisions.districts("320100") == []
    assert len(divisions.PROVINCES) == 34


def test_the_first_address_is_the_default_and_pii_is_sealed(alice, alice_actor):
    first = add_address(actor=alice_actor, reader=alice, **HOME)
    second = add_address(actor=alice_actor, reader=alice, **OFFICE)
    book = reader_addresses(actor=alice_actor, reader=alice)
    assert [(a.uid, a.is_default) for a in book] == [
        (str(first.uid), True),
        (str(second.uid), False),
    ]
    assert book[0].region == "浙江省杭州市西湖区"
    assert (book[0].detail, book[0].recipient, book[0].phone) == (
        HOME["detail"],
        HOME["recipient"],
        HOME["phone"],
    )
    assert book[0].masked() == {
        "uid": str(first.uid),
        "district_code": "330106",
        "region": "浙江省杭州市西湖区",
        "detail": "曙光路73号…",
        "recipient": "林**",
        "phone": "138****5678",
        "is_default": True,
    }
    raw = str(list(Address.objects.values_list("detail_ct", "recipient_ct", "phone_ct")))
    for value in (HOME["detail"], HOME["recipient"], HOME["phone"], OFFICE["phone"]):
        assert value not in raw
    assert AuditEntry.objects.filter(action="reader.address_added").count() == 2


def test_set_default_update_and_delete(alice, alice_actor):
    first = add_address(actor=alice_actor, reader=alice, **HOME)
    second = add_address(actor=alice_actor, reader=alice, **OFFICE)
    set_default_address(actor=alice_actor, reader=alice, uid=str(second.uid))
    assert list(Address.objects.values_list("uid", "is_default").order_by("id")) == [
        (first.uid, False),
        (second.uid, True),
    ]
    update_address(
        actor=alice_actor,
        reader=alice,
        uid=str(first.uid),
        district_code="330782",
        phone="13700001111",
    )
    changed = reader_address(actor=alice_actor, reader=alice, uid=str(first.uid))
    assert (changed.region, changed.phone, changed.detail) == (
        "浙江省金华市义乌市",
        "13700001111",
        HOME["detail"],
    )
    delete_address(actor=alice_actor, reader=alice, uid=str(second.uid))
    assert list(Address.objects.values_list("uid", "is_default")) == [(first.uid, True)]
    actions = list(AuditEntry.objects.values_list("action", flat=True).order_by("id"))
    assert actions[-3:] == [
        "reader.address_default_set",
        "reader.address_updated",
        "reader.address_deleted",
    ]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"district_code": "110101"}, "district_code", "只能配送到浙江省内的地址"),
        ({"district_code": "320102"}, "district_code", "只能配送到浙江省内的地址"),
        ({"district_code": "330199"}, "district_code", "请选择浙江省内的区县"),
        ({"district_code": "330100"}, "district_code", "请选择浙江省内的区县"),
        ({"district_code": ""}, "district_code", "请选择区县"),
        ({"district_code": "33010"}, "district_code", "区县代码应为6位数字"),
        ({"recipient": ""}, "recipient", "请填写收件人姓名"),
        ({"recipient": "X"}, "recipient", "收件人姓名应为2至30个汉字或字母（少数民族姓名可含“·”）"),
        ({"phone": ""}, "phone", "请填写收件人手机号"),
        ({"phone": "0571-88888888"}, "phone", "收件人手机号应为11位，以1开头"),
        ({"detail": "  "}, "detail", "请填写详细地址"),
        ({"detail": "1号"}, "detail", "详细地址应为4至200个字"),
    ],
)
def test_bad_input_names_the_field_and_changes_nothing(alice, alice_actor, change, field, message):
    add_address(actor=alice_actor, reader=alice, **HOME)
    before = snapshot()
    with pytest.raises(InvalidInput) as refused:
        add_address(actor=alice_actor, reader=alice, **{**OFFICE, **change})
    assert refused.value.fields == {field: message}
    uid = str(Address.objects.get().uid)
    with pytest.raises(InvalidInput) as refused:
        update_address(actor=alice_actor, reader=alice, uid=uid, **change)
    assert refused.value.fields == {field: message}
    assert snapshot() == before


def test_every_bad_field_is_named_at_once_in_english_too(alice, alice_actor):
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        add_address(
            actor=alice_actor,
            reader=alice,
            district_code="110101",
            detail="",
            recipient="",
            phone="1",
        )
    assert refused.value.fields == {
        "district_code": "Deliveries go to addresses in Zhejiang only",
        "detail": "Please enter the street address",
        "recipient": "Please enter the recipient's name",
        "phone": "The recipient's mobile number has 11 digits and starts with 1",
    }
    assert Address.objects.count() == 0


def test_a_reader_cannot_touch_another_readers_addresses(alice, alice_actor, bob):
    address = add_address(actor=alice_actor, reader=alice, **HOME)
    bob_actor = reader_actor(bob)
    before = snapshot()
    with pytest.raises(PermissionDenied):
        delete_address(actor=bob_actor, reader=alice, uid=str(address.uid))
    with pytest.raises(PermissionDenied):
        reader_addresses(actor=bob_actor, reader=alice)
    for call in (delete_address, set_default_address):
        with pytest.raises(AddressNotFound):
            call(actor=bob_actor, reader=bob, uid=str(address.uid))
    with pytest.raises(AddressNotFound):
        update_address(actor=bob_actor, reader=bob, uid="not-a-uuid", phone="13700001111")
    assert snapshot() == before


# ---- pages (no JavaScript) ------------------------------------------------------------------


def reader_client(client: Client) -> Client:
    response = client.post("/reader/login/", {"id_number": ALICE_ID, "password": ALICE["password"]})
    assert response.status_code == 302
    return client


def test_the_picker_works_without_javascript_and_the_list_is_masked(client, alice):
    reader_client(client)
    page = client.get("/account/addresses/new/").content.decode()
    assert '<option value="330000" selected>浙江省</option>' in page
    assert '<option value="330100">杭州市</option>' in page
    assert "西湖区" not in page  # no city picked yet
    form = {"province": "330000", "city": "330100", "detail": HOME["detail"], "recipient": "林晓雨"}
    page = client.post("/account/addresses/new/", {**form, "pick": "1"}).content.decode()
    assert '<option value="330106">西湖区</option>' in page
    assert 'value="曙光路73号浙江图书馆"' in page  # what was typed is kept
    assert Address.objects.count() == 0
    response = client.post(
        "/account/addresses/new/", {**form, "district_code": "330106", "phone": "13812345678"}
    )
    assert response.status_code == 302
    listing = client.get("/account/addresses/").content.decode()
    assert "浙江省杭州市西湖区 曙光路73号…" in listing
    assert "林**" in listing
    assert "138****5678" in listing
    assert HOME["detail"] not in listing
    assert "13812345678" not in listing


def test_a_page_error_names_the_field_and_keeps_the_input(client, alice):
    reader_client(client)
    response = client.post(
        "/account/addresses/new/",
        {"province": "320000", "city": "", "district_code": "", "detail": "中山路1号", "recipient": "林晓雨", "phone": "123"},
    )  # fmt: skip
    assert response.status_code == 422
    page = response.content.decode()
    assert '<div class="error" id="error-district_code">只能配送到浙江省内的地址</div>' in page
    assert '<div class="error" id="error-phone">收件人手机号应为11位，以1开头</div>' in page
    assert 'value="中山路1号"' in page
    assert '<option value="320000" selected>江苏省</option>' in page
    assert Address.objects.count() == 0


def test_edit_set_default_and_delete_pages(client, alice, alice_actor):
    first = add_address(actor=alice_actor, reader=alice, **HOME)
    second = add_address(actor=alice_actor, reader=alice, **OFFICE)
    reader_client(client)
    page = client.get(f"/account/addresses/{second.uid}/").content.decode()
    assert '<option value="330200" selected>宁波市</option>' in page
    assert '<option value="330212" selected>鄞州区</option>' in page
    response = client.post(
        f"/account/addresses/{second.uid}/",
        {"province": "330000", "city": "330200", "district_code": "330281", **{k: OFFICE[k] for k in ("detail", "recipient", "phone")}},
    )  # fmt: skip
    assert response.status_code == 302
    assert Address.objects.get(pk=second.pk).district_code == "330281"
    client.post(f"/account/addresses/{second.uid}/default/")
    assert Address.objects.get(is_default=True).pk == second.pk
    client.post(f"/account/addresses/{first.uid}/delete/")
    assert list(Address.objects.values_list("pk", flat=True)) == [second.pk]
    assert client.get(f"/account/addresses/{first.uid}/").status_code == 404


def test_the_htmx_picker_answers_the_next_list(client, alice):
    reader_client(client)
    fragment = client.get(
        "/account/addresses/picker/",
        {"province": "330000", "city": "330900"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert fragment.startswith('<div id="address-picker"')
    assert '<option value="330922">嵊泗县</option>' in fragment
    other = client.get("/account/addresses/picker/", {"province": "110000"}).content.decode()
    assert '<option value="330100">' not in other


# ---- API ------------------------------------------------------------------------------------


def api(client: Client, method: str, path: str, body: dict | None = None, token: str = ""):
    return getattr(client, method)(
        path,
        data=json.dumps(body) if body is not None else None,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_the_api_lists_adds_patches_and_deletes_masked(client, alice):
    token = api(
        client, "post", "/api/v1/auth/token", {"id_number": ALICE_ID, "password": ALICE["password"]}
    ).json()["token"]
    created = api(client, "post", "/api/v1/readers/me/addresses", HOME, token)
    assert created.status_code == 201, created.content
    body = created.json()
    assert {
        k: body[k] for k in ("district_code", "region", "recipient", "phone", "is_default")
    } == {
        "district_code": "330106",
        "region": "浙江省杭州市西湖区",
        "recipient": "林**",
        "phone": "138****5678",
        "is_default": True,
    }
    refused = api(
        client, "post", "/api/v1/readers/me/addresses", {**OFFICE, "district_code": "110101"}, token
    )
    assert refused.status_code == 422
    assert refused.json()["detail"]["fields"] == {"district_code": "只能配送到浙江省内的地址"}
    second = api(client, "post", "/api/v1/readers/me/addresses", OFFICE, token).json()
    patched = api(client, "patch", f"/api/v1/readers/me/addresses/{second['uid']}", {"is_default": True, "phone": "13700001111"}, token)  # fmt: skip
    assert patched.status_code == 200, patched.content
    assert (patched.json()["is_default"], patched.json()["phone"]) == (True, "137****1111")
    listed = api(client, "get", "/api/v1/readers/me/addresses", token=token).json()
    assert [a["uid"] for a in listed] == [second["uid"], body["uid"]]
    gone = api(client, "delete", f"/api/v1/readers/me/addresses/{second['uid']}", token=token)
    assert gone.status_code == 204
    missing = api(client, "delete", f"/api/v1/readers/me/addresses/{second['uid']}", token=token)
    assert (missing.status_code, missing.json()["code"]) == (404, "address_not_found")
    assert api(client, "get", "/api/v1/readers/me/addresses").status_code in (401, 403)
