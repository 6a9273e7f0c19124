"""The WeChat Pay Score adapter against a gateway of the same kind (APIv3 over real HTTP):
signed requests and answers, AES-256-GCM callbacks, the service authorization as admittance,
service orders with a timeout, a failed deduction and duplicate callbacks."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests

from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.credit import crypto, services
from xinyue.credit.errors import ProviderFailed
from xinyue.credit.models import AuthorizationEvent, CreditAuthorization, ProviderNotification
from xinyue.credit.providers import get_provider
from xinyue.credit.providers.base import ProviderRefused
from xinyue.credit.sandbox.wechat import WechatPayScoreSandbox, serve_in_thread
from xinyue.credit.tests.conftest import make_reader
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db(transaction=True)

API_V3_KEY = "a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6"


@pytest.fixture(scope="module")
def wechat_keys(tmp_path_factory):
    folder = tmp_path_factory.mktemp("wechat")
    merchant, platform = crypto.generate_private_key(), crypto.generate_private_key()
    (folder / "merchant.pem").write_bytes(crypto.private_key_pem(merchant))
    (folder / "platform.pub").write_bytes(crypto.public_key_pem(platform))
    return {"merchant": merchant, "platform": platform, "folder": folder}


@pytest.fixture
def wechat(live, settings, wechat_keys):
    sandbox = WechatPayScoreSandbox(
        mchid="1900000001",
        appid="wx0000000000000001",
        service_id="500001000000000000000000000001",
        merchant_public_key=wechat_keys["merchant"].public_key(),
        merchant_serial="MERCHANT0001",
        platform_private_key=wechat_keys["platform"],
        platform_serial="PLATFORM0001",
        api_v3_key=API_V3_KEY,
        timeout_delay=1.0,
    )
    server, base = serve_in_thread(sandbox)
    settings.CREDIT_PROVIDERS = {
        **settings.CREDIT_PROVIDERS,
        "wechat_payscore": {
            "base_url": base,
            "mchid": "1900000001",
            "appid": "wx0000000000000001",
            "service_id": "500001000000000000000000000001",
            "serial_no": "MERCHANT0001",
            "private_key_file": str(wechat_keys["folder"] / "merchant.pem"),
            "platform_public_key_file": str(wechat_keys["folder"] / "platform.pub"),
            "platform_serial": "PLATFORM0001",
            "api_v3_key": API_V3_KEY,
            "authorize_url": base + "/connect/oauth2/authorize",
            "oauth_api_base": base,
            "app_secret": "secret",
        },
    }
    yield sandbox
    server.shutdown()
    server.server_close()


def start(reader):
    return services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="wechat_payscore"
    )


def confirm(url, decision="approve", score=600, openid=""):
    return requests.post(
        url,
        data={"decision": decision, "score": score, "openid": openid},
        allow_redirects=False,
        timeout=10,
    )


def test_opening_the_service_admits_through_the_encrypted_callback(wechat, live):
    reader = make_reader()
    authorization = start(reader)
    assert authorization.confirm_url.startswith(wechat_base(wechat))
    confirm(authorization.confirm_url, openid="o-reader-1")
    authorization.refresh_from_db()
    assert (authorization.status, authorization.decided_via) == ("admitted", "notification")
    assert authorization.provider_user_id == "o-reader-1"
    assert wechat.callbacks[0].status == 204
    row = ProviderNotification.objects.get()
    assert row.kind == "admittance"
    assert "openid" not in row.payload


def wechat_base(wechat):
    return get_provider("wechat_payscore").base_url


def test_a_low_score_is_refused_by_query(wechat, live):
    reader = make_reader()
    authorization = start(reader)
    confirm(authorization.confirm_url, score=549)
    assert wechat.callbacks == []  # WeChat notifies only an opened service
    refreshed = services.refresh_authorization(
        actor=reader_actor(reader), authorization=authorization
    )
    assert (refreshed.status, refreshed.decided_via) == ("refused", "query")


def test_the_gateway_refuses_a_request_signed_with_another_key(wechat, live):
    adapter = get_provider("wechat_payscore")
    adapter.private_key = crypto.generate_private_key()
    with pytest.raises(ProviderRefused) as raised:
        adapter.begin_admittance(request_no="XYA1", threshold=550, return_url="", notify_url="")
    assert "SIGN_ERROR" in str(raised.value)
    assert wechat.permissions == {}


def test_a_forged_answer_is_rejected(wechat, live):
    reader = make_reader()
    wechat.inject("bad_signature")
    with pytest.raises(ProviderFailed):
        start(reader)
    assert CreditAuthorization.objects.get().confirm_url == ""


def post_callback(live, body, headers):
    return requests.post(
        f"{live.url}/api/v1/credit/notify/wechat_payscore",
        data=body.encode(),
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


def test_tampered_stale_and_undecryptable_callbacks_change_nothing(wechat, live):
    reader = make_reader()
    authorization = start(reader)
    code = authorization.request_no
    resource = {
        "appid": wechat.appid,
        "mchid": wechat.mchid,
        "service_id": wechat.service_id,
        "openid": "o-x",
        "user_service_status": "USER_OPEN_SERVICE",
        "authorization_code": code,
    }
    body = wechat.callback_body("PAYSCORE.USER_OPEN_SERVICE", resource, event_id="evt-1")
    headers = wechat.signed_headers(body)
    one_byte = body.replace('"evt-1"', '"evt-2"')
    assert post_callback(live, one_byte, headers).status_code == 500
    stale = {**headers, "Wechatpay-Timestamp": str(int(headers["Wechatpay-Timestamp"]) - 301)}
    assert post_callback(live, body, stale).status_code == 500
    other_serial = {**headers, "Wechatpay-Serial": "PLATFORM0002"}
    assert post_callback(live, body, other_serial).status_code == 500
    # Correctly signed, but the resource was not encrypted with our APIv3 key: the tag fails.
    envelope = json.loads(body)
    envelope["resource"]["ciphertext"] = crypto.aes_gcm_encrypt(
        "z" * 32, envelope["resource"]["nonce"], "payscore", json.dumps(resource).encode()
    )
    bad_tag = json.dumps(envelope)
    assert post_callback(live, bad_tag, wechat.signed_headers(bad_tag)).status_code == 500
    authorization.refresh_from_db()
    assert authorization.status == "pending"
    assert ProviderNotification.objects.count() == 0
    assert post_callback(live, body, headers).status_code == 204
    assert post_callback(live, body, headers).status_code == 204  # a replay: acknowledged, once
    assert ProviderNotification.objects.count() == 1
    authorization.refresh_from_db()
    assert authorization.status == "admitted"


def test_duplicate_callbacks_are_processed_once(wechat, live):
    reader = make_reader()
    wechat.inject("duplicate_callback")
    authorization = start(reader)
    confirm(authorization.confirm_url, openid="o-dup")
    assert [c.status for c in wechat.callbacks] == [204, 204]
    assert ProviderNotification.objects.count() == 1
    assert AuthorizationEvent.objects.filter(to_state="admitted").count() == 1


def admitted_reader(live, wechat, openid="o-borrower"):
    reader = make_reader()
    authorization = start(reader)
    confirm(authorization.confirm_url, openid=openid, score=700)
    return reader


def open_order(reader, reference="order:wx:1"):
    return services.open_credit_order(
        actor=reader_actor(reader),
        reader=reader,
        reference=reference,
        goods_name="额尔古纳河右岸",
        deposit_fen=3200,
        borrowed_at=clock.now() - dt.timedelta(hours=1),
        due_at=clock.now() + dt.timedelta(days=30),
    )


def test_service_orders_timeout_charge_and_retry(wechat, live, settings):
    reader = admitted_reader(live, wechat)
    wechat.inject("timeout")
    settings.CREDIT_HTTP_TIMEOUT_SECONDS = 0.3
    order = open_order(reader)
    settings.CREDIT_HTTP_TIMEOUT_SECONDS = 5
    assert (order.state, order.pending_op) == ("borrowed", "")
    assert list(wechat.orders) == [order.out_order_no]  # one order at WeChat
    wechat.inject("failed_deduction")
    order = services.complete_credit_order(
        actor=SYSTEM, order=order, charge_fen=3200, reason="LOST"
    )
    assert order.state == "charge_failed"
    order = services.complete_credit_order(actor=SYSTEM, order=order)
    assert (order.state, order.charged_fen) == ("charged", 3200)
    assert wechat.orders[order.out_order_no]["collection"]["paid_amount"] == 3200


def test_an_on_time_return_costs_nothing(wechat, live):
    reader = admitted_reader(live, wechat)
    order = open_order(reader)
    order = services.complete_credit_order(actor=SYSTEM, order=order)
    assert (order.state, order.charged_fen) == ("returned", 0)
    assert wechat.orders[order.out_order_no]["state"] == "DONE"


def test_recheck_by_openid(wechat, live, operator):
    reader = admitted_reader(live, wechat, openid="o-again")
    again = services.recheck_admittance(actor=SYSTEM, reader=reader)
    assert (again.status, again.provider, again.decided_via) == (
        "admitted",
        "wechat_payscore",
        "recheck",
    )


def test_wechat_channel_login_exchanges_the_code_for_the_openid(wechat, live):
    session = requests.Session()
    start = session.get(f"{live.url}/login/wechat/", allow_redirects=False)
    authorize = start.headers["Location"]
    assert authorize.startswith(
        f"{wechat_base(wechat)}/connect/oauth2/authorize?appid=wx0000000000000001"
    )
    assert authorize.endswith("#wechat_redirect")
    back = session.post(authorize.split("#")[0], data={"openid": "o-login"}, allow_redirects=False)
    callback = session.get(back.headers["Location"], allow_redirects=False)
    assert callback.headers["Location"] == "/login/wechat/bind/"
    assert wechat.oauth_codes == {}  # the code was spent
