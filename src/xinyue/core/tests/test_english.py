"""English pages: the language switch, the compiled catalog, and Chinese staying the default.

The English catalog lives in ``src/xinyue/locale/en/LC_MESSAGES`` (``django.po`` and the compiled
``django.mo``, both in git: a fresh machine has no GNU gettext to compile it).
"""

from __future__ import annotations

import ast
import re
import struct
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from xinyue.readers.models import Reader

LC_MESSAGES = Path(settings.LOCALE_PATHS[0]) / "en" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\([A-Za-z_]+\)[sd]|\{[A-Za-z_0-9]*\}")
TAG = re.compile(r"<[^>]+>")


def english_client() -> Client:
    """A browser that chose English with the language switch in the page header."""
    client = Client()
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    return client


def page_text(response, status: int = 200) -> str:
    assert response.status_code == status
    return response.content.decode()


# --- pages -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_page_in_english_after_the_language_switch(zhejiang):
    html = page_text(english_client().get("/"))
    assert '<html lang="en">' in html
    for english in (
        "Borrow on credit, new books delivered to your door",
        "Advanced search",
        "Editor's picks",
        "New books",
        "Notices",
        "Log in",
        "Register",
        "My bookshelf",
        "Staff log-in",
    ):
        assert english in html, english
    for chinese in (
        "信用借书，新书到家",
        "高级搜索",
        "主编推荐",
        "新书推荐",
        "我的书架",
        "工作人员入口",
    ):
        assert chinese not in html, chinese
    # The switch back offers Chinese, named in Chinese.
    assert '<button class="link" name="language" value="zh-hans">中文</button>' in html


@pytest.mark.django_db
def test_staff_login_page_in_english_from_accept_language(zhejiang):
    html = page_text(Client(HTTP_ACCEPT_LANGUAGE="en").get("/login/"))
    assert '<html lang="en">' in html
    assert "Staff log-in" in html
    assert "For the platform operator, member library staff and suppliers." in html
    assert "工作人员登录" not in html
    assert "平台运营、成员馆馆员和书商使用此入口。" not in html


@pytest.mark.django_db
def test_reader_registration_page_and_its_errors_in_english(zhejiang):
    client = english_client()
    html = page_text(client.get("/reader/register/"))
    for english in (
        "Reader registration",
        "ID number",
        "Mobile number",
        "Repeat the password",
        "Read the full text",
        "Already have an account?",
    ):
        assert english in html, english
    for chinese in ("读者注册", "再次输入密码", "阅读全文", "已有账户？"):
        assert chinese not in html, chinese

    response = client.post(
        "/reader/register/",
        {"id_number": "12345", "name": "", "phone": "123", "password": "x", "password2": "y"},
    )
    html = page_text(response, 422)
    assert "The ID number must have 18 characters (or 15 for an old one)" in html
    assert "身份证号应为18位" not in html
    assert Reader.objects.count() == 0


@pytest.mark.django_db
def test_console_pages_in_english(zhejiang, operator_user):
    client = english_client()
    client.force_login(operator_user)
    html = page_text(client.get("/console/"))
    for english in ("Platform operator console", "Member libraries", "Audit log", "API keys"):
        assert english in html, english
    for chinese in ("平台运营管理台", "审计日志", "API 密钥", "管理台"):
        assert chinese not in html, chinese

    html = page_text(client.get("/console/staff/"))
    assert "Add staff member" in html
    assert "Initial password" in html
    assert "添加馆员" not in html


@pytest.mark.django_db
def test_domain_error_messages_follow_the_language(zhejiang, hz_key_client):
    response = Client(HTTP_ACCEPT_LANGUAGE="en").get("/api/v1/libraries/999999")
    assert response.status_code == 404
    assert response.json()["message"] == "Member library not found"

    response = hz_key_client.get("/api/v1/libraries/330200/staff", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json()["message"] == "You cannot act on another member library's data"

    # Without a preference the API answers in Chinese, as before.
    assert Client().get("/api/v1/libraries/999999").json()["message"] == "找不到该成员馆"


@pytest.mark.django_db
def test_chinese_stays_the_default(zhejiang, operator_user):
    client = Client()
    html = page_text(client.get("/"))
    assert '<html lang="zh-CN">' in html
    assert "高级搜索" in html
    assert "主编推荐" in html
    assert "Advanced search" not in html
    assert "Editor's picks" not in html
    assert '<button class="link" name="language" value="en">English</button>' in html

    assert "工作人员登录" in page_text(client.get("/login/"))
    assert "读者注册" in page_text(client.get("/reader/register/"))
    client.force_login(operator_user)
    html = page_text(client.get("/console/"))
    assert "平台运营管理台" in html
    assert "Platform operator console" not in html


@pytest.mark.django_db
def test_switching_back_to_chinese(zhejiang):
    client = english_client()
    assert "Advanced search" in page_text(client.get("/"))
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    html = page_text(client.get("/"))
    assert "高级搜索" in html
    assert "Advanced search" not in html


# --- the catalog -------------------------------------------------------------------------------


def read_po(path: Path) -> list[dict]:
    """The entries of a .po file: msgctxt, msgid, msgid_plural, msgstr / msgstr[n], flags."""
    entries: list[dict] = []
    entry: dict = {}
    key = None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, key = {}, None
        elif line.startswith("#~"):
            entry["obsolete"] = True
        elif line.startswith("#,"):
            entry["flags"] = {f.strip() for f in line[2:].split(",")}
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[key] += ast.literal_eval(line)
        else:
            key, _, value = line.partition(" ")
            entry[key] = ast.literal_eval(value)
    return entries


def read_mo(path: Path) -> dict[str, str]:
    """A compiled catalog as {msgid: msgstr}, keys as GNU gettext stores them (context\\x04id,
    plural forms joined by NUL)."""
    data = path.read_bytes()
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _revision, count, ids_at, strs_at = struct.unpack(order + "4I", data[4:20])
    catalog = {}
    for i in range(count):
        id_len, id_off = struct.unpack(order + "2I", data[ids_at + 8 * i : ids_at + 8 * i + 8])
        str_len, str_off = struct.unpack(order + "2I", data[strs_at + 8 * i : strs_at + 8 * i + 8])
        catalog[data[id_off : id_off + id_len].decode()] = data[
            str_off : str_off + str_len
        ].decode()
    return catalog


def mo_key(entry: dict) -> str:
    key = entry["msgid"]
    if "msgid_plural" in entry:
        key += "\x00" + entry["msgid_plural"]
    if "msgctxt" in entry:
        key = entry["msgctxt"] + "\x04" + key
    return key


def translations(entry: dict) -> list[str]:
    if "msgid_plural" in entry:
        return [entry[k] for k in sorted(k for k in entry if k.startswith("msgstr["))]
    return [entry["msgstr"]]


def test_every_message_is_translated_and_compiled():
    entries = [e for e in read_po(LC_MESSAGES / "django.po") if not e.get("obsolete")]
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == ""
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    assert len(messages) > 700

    compiled = read_mo(LC_MESSAGES / "django.mo")
    for entry in messages:
        strings = translations(entry)
        assert "fuzzy" not in entry.get("flags", set()), entry["msgid"]
        assert strings, entry["msgid"]
        assert all(s.strip() for s in strings), f"untranslated: {entry['msgid']!r}"
        # The .mo is compiled from this very .po (no message added or changed since).
        assert compiled.get(mo_key(entry)) == "\x00".join(strings), entry["msgid"]
    assert len(compiled) == len(messages) + 1  # and the header


def test_translations_keep_placeholders_and_markup():
    for entry in read_po(LC_MESSAGES / "django.po")[1:]:
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        for i, text in enumerate(translations(entry)):
            source = sources[min(i, 1)]
            wanted, got = set(PLACEHOLDER.findall(source)), set(PLACEHOLDER.findall(text))
            if "msgid_plural" in entry and i == 0:
                assert got <= wanted, entry["msgid"]  # "1 book" may spell out its number
            else:
                assert got == wanted, entry["msgid"]
            assert sorted(TAG.findall(source)) == sorted(TAG.findall(text)), entry["msgid"]


def test_audit_words_read_as_one_style():
    """The audit log's English is sentence case throughout: one label does not shout and the next
    whisper."""
    labels = [
        entry["msgstr"]
        for entry in read_po(LC_MESSAGES / "django.po")[1:]
        if entry.get("msgctxt") in ("audit action", "audit object")
    ]
    assert len(labels) > 100
    assert [label for label in labels if not label[:1].isupper()] == []
