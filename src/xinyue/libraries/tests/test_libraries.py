"""The member-library tree: the bundled Zhejiang list, loading files, the public API, editing."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command

from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.libraries.errors import LibraryFileInvalid
from xinyue.libraries.models import Library, WebhookSubscription
from xinyue.libraries.services import load_library_file, update_library

CITY_NAMES = {
    "330100": "杭州图书馆", "330200": "宁波图书馆", "330300": "温州市图书馆", "330400": "嘉兴市图书馆",
    "330500": "湖州市图书馆", "330600": "绍兴图书馆", "330700": "金华市图书馆", "330800": "衢州市图书馆",
    "330900": "舟山市图书馆", "331000": "台州市图书馆", "331100": "丽水市图书馆",
}  # fmt: skip


@pytest.mark.django_db
def test_zhejiang_is_loaded_by_migration(zhejiang):
    province = Library.objects.get(level="province")
    assert (province.code, province.name, province.is_operator) == ("330000", "浙江图书馆", True)
    cities = dict(Library.objects.filter(level="city").values_list("code", "name"))
    assert cities == CITY_NAMES
    districts = Library.objects.filter(level="district").select_related("parent")
    assert districts.count() == 90
    for library in districts:
        assert library.parent.code == library.code[:4] + "00"
    assert Library.objects.get(code="330106").name == "杭州市西湖区图书馆"


@pytest.mark.django_db
def test_api_lists_the_tree(client, zhejiang):
    rows = client.get("/api/v1/libraries").json()
    assert len(rows) == 102
    by_code = {r["code"]: r for r in rows}
    assert by_code["330000"]["parent_code"] is None
    assert by_code["330382"] == by_code["330382"] | {
        "parent_code": "330300",
        "level": "district",
        "name": "乐清市图书馆",
    }
    detail = client.get("/api/v1/libraries/330900").json()
    assert [c["code"] for c in detail["children"]] == ["330902", "330903", "330921", "330922"]


@pytest.mark.django_db
def test_load_libraries_command_loads_another_province(tmp_path, zhejiang):
    path = tmp_path / "anhui.csv"
    path.write_text(
        "code,name,level,parent_code,address,phone,is_operator\n"
        "340000,安徽省图书馆,province,,合肥市,,0\n"
        "340100,合肥市图书馆,city,340000,,,0\n"
        "340102,合肥市瑶海区图书馆,district,340100,,,0\n",
        encoding="utf-8",
    )
    call_command("load-libraries", str(path))
    assert Library.objects.get(code="340102").parent.code == "340100"
    # Loading again changes nothing; the Zhejiang list is untouched.
    call_command("load-libraries", str(path))
    assert Library.objects.filter(code__startswith="34").count() == 3
    assert Library.objects.count() == 105


@pytest.mark.django_db
def test_a_bad_library_file_changes_nothing_and_names_each_problem(tmp_path, zhejiang, operator):
    text = (
        "code,name,level,parent_code\n"
        "330100,杭州图书馆（改名）,city,330000\n"
        "33X,坏代码,district,330100\n"
        "330199,,district,330100\n"
        "330198,某馆,village,330100\n"
        "330197,孤儿馆,district,339900\n"
    )
    with pytest.raises(LibraryFileInvalid) as excinfo:
        load_library_file(actor=operator, text=text)
    assert set(excinfo.value.fields) == {
        "line 3.code",
        "line 4.name",
        "line 5.level",
        "330197.parent_code",
    }
    assert Library.objects.get(code="330100").name == "杭州图书馆"
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match="33X"):
        call_command("load-libraries", str(path))


@pytest.mark.django_db
def test_library_file_needs_its_columns(zhejiang, operator):
    with pytest.raises(LibraryFileInvalid, match="成员馆文件缺少列"):
        load_library_file(actor=operator, text="code,name\n330100,x\n")


@pytest.mark.django_db
def test_library_admin_edits_contact_and_settings_but_not_name(hangzhou, hz_admin, operator):
    update_library(
        actor=hz_admin,
        library=hangzhou,
        phone="0571-00000000",
        settings_values={"card_prefix": "HZ"},
    )
    hangzhou.refresh_from_db()
    assert hangzhou.phone == "0571-00000000"
    assert hangzhou.settings == {"card_prefix": "HZ"}
    with pytest.raises(PermissionDenied):
        update_library(actor=hz_admin, library=hangzhou, name="杭州馆")
    with pytest.raises(InvalidInput) as excinfo:
        update_library(
            actor=hz_admin,
            library=hangzhou,
            settings_values={"link_card_check": "fax", "colour": "red"},
        )
    assert excinfo.value.fields == {
        "link_card_check": "只能是 staff、sip2 或 rest",
        "colour": "未知的设置项",
    }
    hangzhou.refresh_from_db()
    assert hangzhou.name == "杭州图书馆"
    assert hangzhou.settings == {"card_prefix": "HZ"}
    update_library(actor=operator, library=hangzhou, is_active=False)
    assert Library.objects.get(code="330100").is_active is False
    assert list(
        AuditEntry.objects.filter(action="library.updated").values_list("detail", flat=True)
    ) == [
        {"fields": ["is_active"]},
        {"fields": ["phone", "settings"]},
    ]


@pytest.mark.django_db
def test_library_admin_subscribes_a_webhook_in_the_console(logged_in, hz_admin_user, nb_admin_user):
    client = logged_in(hz_admin_user)
    response = client.post(
        "/console/libraries/330100/webhooks/", {"url": "https://ils.hz.example/hook"}
    )
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert subscription.secret in response.content.decode()
    assert (subscription.library.code, subscription.event_types) == ("330100", [])
    bad = client.post("/console/libraries/330100/webhooks/", {"url": "not a url"})
    assert bad.status_code == 422
    assert client.get("/console/libraries/330200/webhooks/").status_code == 403
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_library_admin_sets_the_link_check_in_the_console(logged_in, hz_admin_user):
    client = logged_in(hz_admin_user)
    form = {
        "name": "杭州图书馆", "address": "", "phone": "", "is_active": "on", "card_prefix": "HZ",
        "link_card_check": "sip2", "sip2_host": "ils.hz.example", "sip2_port": "6001", "sip2_encoding": "gbk",
        "sip2_institution_id": "HZLIB", "sip2_location_code": "", "sip2_login_user": "xinyue",
        "sip2_login_password": "s3cret", "rest_verify_url": "", "rest_verify_secret": "",
    }  # fmt: skip
    assert client.post("/console/libraries/330100/", form).status_code == 302
    library = Library.objects.get(code="330100")
    assert library.settings["sip2_encoding"] == "gbk"
    assert library.settings["sip2_login_password"] == "s3cret"
    page = client.get("/console/libraries/330100/").content.decode()
    assert "s3cret" not in page
    # Leaving the password empty keeps it.
    assert (
        client.post("/console/libraries/330100/", {**form, "sip2_login_password": ""}).status_code
        == 302
    )
    assert Library.objects.get(code="330100").settings["sip2_login_password"] == "s3cret"
    bad = client.post("/console/libraries/330100/", {**form, "sip2_port": "70000"})
    assert bad.status_code == 422
    assert Library.objects.get(code="330100").settings["sip2_port"] == 6001
