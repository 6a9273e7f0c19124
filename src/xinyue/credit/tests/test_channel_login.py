"""Channel log-in through the sandbox's OAuth page, over HTTP: first time bind (ID number +
password), then straight in; a forged state or a reused code gets nowhere."""

from __future__ import annotations

import re

import pytest
import requests

from xinyue.credit.tests.conftest import READERS, make_reader
from xinyue.readers.models import ChannelIdentity

pytestmark = pytest.mark.django_db(transaction=True)


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)


def through_oauth(
    live, session: requests.Session, login: str, password: str = "lin-sandbox-pass"
) -> requests.Response:
    """/login/sandbox/ → the sandbox's page → pick the test user → back to our callback."""
    start = session.get(f"{live.url}/login/sandbox/?next=/account/", allow_redirects=False)
    assert start.status_code == 302
    oauth_url = start.headers["Location"]
    assert oauth_url.startswith(f"{live.url}/sandbox/zhima/oauth/authorize?app_id=")
    page = session.get(oauth_url)
    assert "支付宝账号授权" in page.text
    back = session.post(
        oauth_url,
        data={"login": login, "password": password, "decision": "approve"},
        allow_redirects=False,
    )
    assert back.status_code == 302
    assert back.headers["Location"].startswith(f"{live.url}/login/sandbox/callback/?")
    return session.get(back.headers["Location"], allow_redirects=False)


def test_first_time_binds_after_a_password_check_then_logs_in_directly(live):
    reader = make_reader()
    session = requests.Session()
    callback = through_oauth(live, session, "lin-alipay")
    assert callback.headers["Location"] == "/login/sandbox/bind/"
    page = session.get(f"{live.url}/login/sandbox/bind/")
    assert "首次使用该渠道登录" in page.text
    wrong = session.post(
        f"{live.url}/login/sandbox/bind/",
        data={
            "id_number": READERS["lin"]["id_number"],
            "password": "wrong-password-1",
            "csrfmiddlewaretoken": csrf(page.text),
        },
        allow_redirects=False,
    )
    assert wrong.status_code == 422
    assert not ChannelIdentity.objects.exists()
    done = session.post(
        f"{live.url}/login/sandbox/bind/",
        data={
            "id_number": READERS["lin"]["id_number"],
            "password": READERS["lin"]["password"],
            "csrfmiddlewaretoken": csrf(wrong.text),
        },
        allow_redirects=False,
    )
    assert done.status_code == 302
    assert done.headers["Location"] == "/account/"
    identity = ChannelIdentity.objects.get()
    assert (identity.reader_id, identity.provider) == (reader.pk, "sandbox")
    assert identity.external_id.startswith("2088")

    again = requests.Session()
    callback = through_oauth(live, again, "lin-alipay")
    assert callback.headers["Location"] == "/account/"
    assert again.get(f"{live.url}/credit/", allow_redirects=False).status_code == 200
    assert ChannelIdentity.objects.count() == 1


def test_the_known_identity_is_used_for_the_credit_check(live):
    from xinyue.credit import services
    from xinyue.credit.sandbox.models import SandboxAuthorization
    from xinyue.readers.services import bind_channel_identity
    from xinyue.readers.services.identity import reader_actor

    reader = make_reader()
    user = live.control("users", {"login": "known", "score": 560})
    bind_channel_identity(reader=reader, provider="sandbox", external_id=user["user_id"])
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    assert SandboxAuthorization.objects.get().user.user_id == user["user_id"]
    live.confirm(authorization.confirm_url, "approve", 560)
    authorization.refresh_from_db()
    assert (authorization.status, authorization.provider_user_id) == ("admitted", user["user_id"])


def test_a_forged_state_and_a_reused_code_get_nowhere(live):
    session = requests.Session()
    start = session.get(f"{live.url}/login/sandbox/", allow_redirects=False)
    oauth_url = start.headers["Location"]
    back = session.post(
        oauth_url, data={"login": "someone", "decision": "approve"}, allow_redirects=False
    )
    forged = back.headers["Location"].replace("state=", "state=x")
    assert session.get(forged, allow_redirects=False).status_code == 400
    # The state was spent by the failed attempt; replaying the genuine callback fails too.
    assert session.get(back.headers["Location"], allow_redirects=False).status_code == 400
    assert not ChannelIdentity.objects.exists()


def test_an_auth_code_works_once(live):
    from urllib.parse import parse_qs, urlsplit

    from xinyue.credit.providers import get_provider
    from xinyue.credit.providers.base import ProviderError

    session = requests.Session()
    start = session.get(f"{live.url}/login/sandbox/", allow_redirects=False)
    back = session.post(start.headers["Location"], data={"login": "once"}, allow_redirects=False)
    code = parse_qs(urlsplit(back.headers["Location"]).query)["auth_code"][0]
    adapter = get_provider("sandbox")
    identity = adapter.exchange_code(code=code)
    assert identity.user_id.startswith("2088")
    assert identity.access_token
    with pytest.raises(ProviderError) as raised:
        adapter.exchange_code(code=code)
    assert raised.value.sub_code == "isv.code-invalid"


def test_unknown_channels_and_a_refusal(live):
    session = requests.Session()
    assert session.get(f"{live.url}/login/wechat/").status_code == 409  # not configured here
    start = session.get(f"{live.url}/login/sandbox/", allow_redirects=False)
    denied = session.post(
        start.headers["Location"], data={"decision": "deny"}, allow_redirects=False
    )
    assert "error=access_denied" in denied.headers["Location"]
    assert session.get(denied.headers["Location"], allow_redirects=False).status_code == 400


def test_a_new_reader_registers_once_then_confirms_the_binding(live):
    session = requests.Session()
    callback = through_oauth(live, session, "newcomer-alipay")
    bind = session.get(f"{live.url}{callback.headers['Location']}")
    register_url = (
        re.search(r'href="([^"]+)" id="bind-register"', bind.text).group(1).replace("&amp;", "&")
    )
    form = session.get(f"{live.url}{register_url}")
    registered = session.post(
        f"{live.url}{register_url}",
        data={
            **READERS["wang"],
            "password2": READERS["wang"]["password"],
            "consent_id_number": "on",
            "next": "/login/sandbox/bind/",
            "csrfmiddlewaretoken": csrf(form.text),
        },
        allow_redirects=False,
    )
    assert registered.status_code == 302, registered.text[:500]
    assert registered.headers["Location"] == "/login/sandbox/bind/"
    confirm = session.get(f"{live.url}/login/sandbox/bind/")
    assert 'id="confirm-bind"' in confirm.text
    done = session.post(
        f"{live.url}/login/sandbox/bind/",
        data={"confirm": "1", "csrfmiddlewaretoken": csrf(confirm.text)},
        allow_redirects=False,
    )
    assert done.headers["Location"] == "/account/"
    identity = ChannelIdentity.objects.get()
    assert identity.reader.user.username.startswith("reader-")
