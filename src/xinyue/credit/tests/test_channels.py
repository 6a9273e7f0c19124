"""Who is calling, decided once (``accounts.middleware``): an authorization started in the Alipay
or WeChat app is recorded with that channel, on the page and through the API, and so are its
event row and audit row. The report's channel figures depend on it."""

from __future__ import annotations

import pytest

from xinyue.core.models import AuditEntry
from xinyue.credit.models import AuthorizationEvent, CreditAuthorization
from xinyue.credit.tests.conftest import READERS, make_reader

ALIPAY_UA = (
    "Mozilla/5.0 (Linux; Android 13) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0 Mobile Safari/537.36 AlipayClient/10.5.36.8000 Language/zh-Hans"
)
WECHAT_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148 MicroMessenger/8.0.44(0x18002c2f) NetType/WIFI"
)
PC_UA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0"


@pytest.fixture(autouse=True)
def _embedded(settings):
    settings.CREDIT_SANDBOX_IN_PROCESS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens there: no socket is used


def recorded_channels(authorization: CreditAuthorization) -> tuple[str, str, str]:
    event = AuthorizationEvent.objects.get(authorization=authorization, to_state="pending")
    entry = AuditEntry.objects.get(
        action="credit.authorization_started", object_id=str(authorization.pk)
    )
    return authorization.channel, event.channel, entry.channel


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("agent", "channel"), [(ALIPAY_UA, "alipay"), (WECHAT_UA, "wechat"), (PC_UA, "pc")]
)
def test_the_page_records_the_channel_of_the_app(client, agent, channel):
    reader = make_reader()
    client.force_login(reader.user)
    response = client.post("/credit/", {"provider": "sandbox"}, HTTP_USER_AGENT=agent)
    assert response.status_code == 302
    authorization = CreditAuthorization.objects.get(reader=reader)
    assert recorded_channels(authorization) == (channel, channel, channel)


@pytest.mark.django_db
@pytest.mark.parametrize("channel", ["alipay", "wechat", "pc"])
def test_the_api_records_the_channel_of_the_token(client, channel):
    reader = make_reader()
    login = client.post(
        "/api/v1/auth/token",
        {
            "id_number": READERS["lin"]["id_number"],
            "password": READERS["lin"]["password"],
            "channel": channel,
        },
        content_type="application/json",
        HTTP_USER_AGENT=PC_UA,  # the token's channel wins over whatever the caller says it is
    )
    assert login.status_code == 200, login.content
    response = client.post(
        "/api/v1/credit/authorizations",
        {"provider": "sandbox"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {login.json()['token']}",
    )
    assert response.status_code == 201, response.content
    authorization = CreditAuthorization.objects.get(reader=reader)
    assert recorded_channels(authorization) == (channel, channel, channel)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("agent", "channel"), [(ALIPAY_UA, "alipay"), (WECHAT_UA, "wechat"), (PC_UA, "pc")]
)
def test_the_api_with_the_page_session_records_the_channel_of_the_app(client, agent, channel):
    reader = make_reader()
    client.force_login(reader.user)
    response = client.post(
        "/api/v1/credit/authorizations",
        {"provider": "sandbox"},
        content_type="application/json",
        HTTP_USER_AGENT=agent,
    )
    assert response.status_code == 201, response.content
    authorization = CreditAuthorization.objects.get(reader=reader)
    assert recorded_channels(authorization) == (channel, channel, channel)


@pytest.mark.django_db
def test_a_reader_logging_in_from_the_wechat_app_is_audited_as_wechat(client):
    make_reader()
    response = client.post(
        "/reader/login/",
        {"id_number": READERS["lin"]["id_number"], "password": READERS["lin"]["password"]},
        HTTP_USER_AGENT=WECHAT_UA,
    )
    assert response.status_code == 302
    assert AuditEntry.objects.get(action="reader.logged_in").channel == "wechat"
