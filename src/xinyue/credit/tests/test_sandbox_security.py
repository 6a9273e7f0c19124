"""The sandbox provider cannot be used to take over a reader, and is off unless asked for.

The attack (issue 7, item 1): anonymous ``GET /login/sandbox/`` → the sandbox's OAuth page lists
every test user, including those bound to real readers; picking one logs the caller in as that
reader. Driven over HTTP against a live server, as an attacker would.
"""

from __future__ import annotations

import os
import subprocess
import sys
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from xinyue.credit.sandbox import gateway
from xinyue.credit.sandbox.models import SandboxFault, SandboxUser
from xinyue.credit.tests.conftest import READERS, make_reader
from xinyue.readers.models import ChannelIdentity
from xinyue.readers.services import bind_channel_identity

SANDBOX_PASSWORD = "sandbox-secret-9"


def _settings_value(name: str, env: dict[str, str], tmp_path) -> str:
    """A setting as a fresh process reads it from this environment (nothing inherited)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("XINYUE_")}
    clean.update(env, XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings")
    code = f"from django.conf import settings; print(settings.{name})"
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_the_sandbox_is_off_unless_explicitly_enabled(tmp_path):
    assert _settings_value("CREDIT_SANDBOX_ENABLED", {}, tmp_path) == "False"
    assert (
        _settings_value("CREDIT_SANDBOX_ENABLED", {"XINYUE_CREDIT_SANDBOX": "1"}, tmp_path)
        == "True"
    )


def test_xinyue_up_enables_the_sandbox_for_the_demo_unless_told_otherwise():
    from xinyue.manage import demo_environment

    env: dict[str, str] = {}
    demo_environment(["xinyue", "up"], env)
    assert env["XINYUE_CREDIT_SANDBOX"] == "1"
    chosen = {"XINYUE_CREDIT_SANDBOX": "0"}
    demo_environment(["xinyue", "up"], chosen)
    assert chosen["XINYUE_CREDIT_SANDBOX"] == "0"
    other: dict[str, str] = {}
    demo_environment(["xinyue", "migrate"], other)
    assert other == {}


@pytest.mark.django_db
def test_every_page_says_when_the_sandbox_is_on(client, settings):
    settings.CREDIT_SANDBOX_ENABLED = True
    for path in ("/", "/login/", "/reader/login/"):
        page = client.get(path)
        assert 'id="sandbox-banner"' in page.content.decode(), path
        assert "信用沙箱已开启" in page.content.decode()
    settings.CREDIT_SANDBOX_ENABLED = False
    assert 'id="sandbox-banner"' not in client.get("/").content.decode()
    off = client.get("/login/sandbox/")
    assert (off.status_code, off.get("Location")) == (409, None)
    assert client.get("/sandbox/zhima/oauth/authorize").status_code == 404


def test_the_system_check_warns_on_every_database():
    from xinyue.credit.checks import sandbox_warnings

    for engine in ("django.db.backends.postgresql", "django.db.backends.sqlite3"):
        assert [w.id for w in sandbox_warnings(sandbox_enabled=True, engine=engine)] == [
            "credit.W001"
        ]
        assert sandbox_warnings(sandbox_enabled=False, engine=engine) == []


# --- the OAuth page ----------------------------------------------------------------------------


def _oauth_page(live, session: requests.Session) -> str:
    start = session.get(f"{live.url}/login/sandbox/?next=/account/", allow_redirects=False)
    assert start.status_code == 302
    return start.headers["Location"]


def _bound_sandbox_user(password: str = "") -> tuple[SandboxUser, object]:
    reader = make_reader()
    user = gateway.user_by_login("demo-reader-77", score=600)
    if password:
        gateway.set_user_password(user, password)
    bind_channel_identity(reader=reader, provider="sandbox", external_id=user.user_id)
    return user, reader


@pytest.mark.django_db(transaction=True)
def test_the_oauth_page_neither_lists_nor_logs_in_a_readers_sandbox_user(live):
    _user, reader = _bound_sandbox_user(SANDBOX_PASSWORD)
    gateway.user_by_login("free-tester", score=700)
    attacker = requests.Session()
    oauth_url = _oauth_page(live, attacker)
    page = attacker.get(oauth_url).text
    assert "free-tester" in page
    assert "demo-reader-77" not in page
    for password in ("", "guess-1234"):
        refused = attacker.post(
            oauth_url,
            data={"login": "demo-reader-77", "password": password, "decision": "approve"},
            allow_redirects=False,
        )
        assert refused.status_code == 400
        assert "auth_code" not in refused.headers.get("Location", "")
    assert attacker.get(f"{live.url}/account/", allow_redirects=False).status_code == 302
    assert attacker.get(f"{live.url}/api/v1/readers/me").status_code in (401, 403)
    assert ChannelIdentity.objects.filter(reader=reader).count() == 1

    # The reader, with their sandbox password, still gets in.
    owner = requests.Session()
    oauth_url = _oauth_page(live, owner)
    back = owner.post(
        oauth_url,
        data={"login": "demo-reader-77", "password": SANDBOX_PASSWORD, "decision": "approve"},
        allow_redirects=False,
    )
    assert back.status_code == 302
    assert parse_qs(urlsplit(back.headers["Location"]).query)["auth_code"]
    assert owner.get(back.headers["Location"], allow_redirects=False).headers["Location"] == (
        "/account/"
    )


@pytest.mark.django_db(transaction=True)
def test_a_readers_sandbox_user_without_a_password_cannot_be_used_at_all(live):
    _bound_sandbox_user(password="")
    attacker = requests.Session()
    oauth_url = _oauth_page(live, attacker)
    refused = attacker.post(
        oauth_url, data={"login": "demo-reader-77", "decision": "approve"}, allow_redirects=False
    )
    assert refused.status_code == 400


@pytest.mark.django_db(transaction=True)
def test_choosing_a_listed_test_user_logs_in(live):
    """The radio buttons and the text box once shared ``name="login"``: the box's empty value
    came last and every choice failed."""
    gateway.user_by_login("listed-tester", score=700)
    session = requests.Session()
    oauth_url = _oauth_page(live, session)
    page = session.get(oauth_url).text
    assert 'name="user" value="listed-tester"' in page
    back = session.post(
        oauth_url,
        data={"user": "listed-tester", "login": "", "decision": "approve"},
        allow_redirects=False,
    )
    assert back.status_code == 302, back.text
    assert "auth_code=" in back.headers["Location"]


# --- control endpoints -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_control_endpoints_need_an_operator(live, hangzhou):
    from xinyue.accounts.services import create_api_key
    from xinyue.core.actors import SYSTEM

    _key, library_token = create_api_key(
        actor=SYSTEM, name="Hangzhou ILS", scope="library", library=hangzhou, role="admin"
    )
    before = (SandboxUser.objects.count(), SandboxFault.objects.count())
    for headers in (
        {},
        {"Authorization": f"Bearer {library_token}"},
        {"Authorization": "Bearer x"},
    ):
        for method, path, payload in (
            ("post", "users", {"login": "evil", "score": 950}),
            ("post", "faults", {"kind": "timeout"}),
            ("delete", "faults", None),
            ("get", "users", None),
            ("get", "notifications", None),
        ):
            answer = requests.request(
                method,
                f"{live.url}/sandbox/zhima/control/{path}",
                json=payload,
                headers=headers,
                timeout=10,
            )
            assert answer.status_code in (401, 403), (headers, path, answer.status_code)
            assert answer.json()["code"] in ("unauthenticated", "forbidden")
    assert (SandboxUser.objects.count(), SandboxFault.objects.count()) == before

    # A reader's session is no operator either.
    reader = make_reader()
    session = requests.Session()
    session.get(f"{live.url}/reader/login/")
    token = session.cookies.get("csrftoken")
    session.post(
        f"{live.url}/reader/login/",
        data={
            "id_number": READERS["lin"]["id_number"],
            "password": READERS["lin"]["password"],
            "csrfmiddlewaretoken": token,
        },
    )
    assert session.get(f"{live.url}/account/", allow_redirects=False).status_code == 200
    assert reader.pk
    assert session.post(
        f"{live.url}/sandbox/zhima/control/faults", json={"kind": "timeout"}, timeout=10
    ).status_code in (401, 403)
    assert SandboxFault.objects.count() == before[1]

    # The operator's key works.
    assert live.control("faults", {"kind": "timeout", "times": 1})["kind"] == "timeout"
    assert SandboxFault.objects.count() == before[1] + 1
