"""The sandbox gateway checks our requests exactly as Alipay's gateway.do does and signs its
answers; driven here in-process through Django's test client (the adapters' HTTP tests are in
test_authorization_flow and test_credit_orders)."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from xinyue.core import clock
from xinyue.credit import conf, crypto
from xinyue.credit.providers import get_provider
from xinyue.credit.providers.zhima import alipay_time
from xinyue.credit.sandbox.models import SandboxAuthorization, SandboxOrder, SandboxUser

GATEWAY = "/sandbox/zhima/gateway.do"


@pytest.fixture
def gateway():
    return get_provider("sandbox").gateway


def post(client, params):
    return client.post(GATEWAY, params)


def answer(response, method):
    """The verified content of an answer, checked with the sandbox's public key."""
    node = crypto.alipay_response_node(method)
    raw, sign = crypto.alipay_response_parts(response.content.decode(), node)
    assert crypto.rsa2_verify(
        conf.public_key(conf.ensure_sandbox_keys()["gateway_public"]), raw, sign
    )
    return json.loads(raw)


def initialize(gateway, txn="XYA1", score=550):
    return gateway.signed_params(
        "zhima.credit.admittance.initialize",
        {"transaction_id": txn, "product_code": "w1010100000000002733", "admittance_score": score},
        notify_url="http://127.0.0.1:1/notify",
    )


@pytest.mark.django_db
def test_a_well_signed_request_is_answered_and_signed(client, gateway):
    content = answer(post(client, initialize(gateway)), "zhima.credit.admittance.initialize")
    assert content["code"] == "10000"
    assert content["transaction_id"] == "XYA1"
    assert content["biz_no"].startswith("ZM")
    assert SandboxAuthorization.objects.get().admittance_score == 550


@pytest.mark.django_db
def test_the_same_transaction_id_gives_the_same_authorization(client, gateway):
    first = answer(post(client, initialize(gateway)), "zhima.credit.admittance.initialize")
    again = answer(post(client, initialize(gateway)), "zhima.credit.admittance.initialize")
    assert first["biz_no"] == again["biz_no"]
    assert SandboxAuthorization.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("field", ["biz_content", "timestamp", "app_id", "method", "sign"])
def test_a_one_byte_change_is_rejected_and_changes_nothing(client, gateway, field):
    params = initialize(gateway)
    value = params[field]
    params[field] = value[:-2] + chr(ord(value[-2]) ^ 1) + value[-1]
    response = post(client, params)
    body = json.loads(response.content)
    node = next(k for k in body if k.endswith("_response"))
    assert body[node]["code"] in ("40002", "40001")
    assert body[node]["sub_code"] in (
        "isv.invalid-signature",
        "isv.invalid-app-id",
        "isv.invalid-method",
    )
    assert SandboxAuthorization.objects.count() == 0


@pytest.mark.django_db
def test_signing_with_the_notification_rule_is_rejected(client, gateway):
    params = initialize(gateway)
    key = conf.private_key(conf.ensure_sandbox_keys()["app_private"])
    params["sign"] = crypto.alipay_sign_notification(key, params)  # sign_type left out: wrong
    content = answer(post(client, params), "zhima.credit.admittance.initialize")
    assert content["sub_code"] == "isv.invalid-signature"


@pytest.mark.django_db
def test_an_empty_parameter_must_be_left_out_of_the_signed_string(client, gateway):
    params = initialize(gateway)
    params["return_url"] = ""
    key = conf.private_key(conf.ensure_sandbox_keys()["app_private"])
    # A merchant that signs "return_url=" too (empty values kept) fails, as at Alipay.
    params["sign"] = crypto.rsa2_sign(
        key, crypto.alipay_sign_content(params, drop_sign_type=False, drop_empty=False)
    )
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["sub_code"] == (
        "isv.invalid-signature"
    )
    params["sign"] = crypto.alipay_sign_request(key, params)
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["code"] == "10000"


@pytest.mark.django_db
def test_a_foreign_key_an_unknown_app_and_wrong_sign_type_are_refused(
    client, gateway, stranger_key
):
    params = initialize(gateway)
    params["sign"] = crypto.alipay_sign_request(stranger_key, params)
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["sub_code"] == (
        "isv.invalid-signature"
    )
    params = initialize(gateway)
    params["app_id"] = "2021999999999999"
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["sub_code"] == (
        "isv.invalid-app-id"
    )
    params = initialize(gateway)
    params["sign_type"] = "RSA"
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["sub_code"] == (
        "isv.invalid-signature-type"
    )
    assert SandboxAuthorization.objects.count() == 0


@pytest.mark.django_db
def test_missing_parameters_and_stale_timestamps(client, gateway):
    params = initialize(gateway)
    del params["timestamp"]
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["code"] == "40001"
    params = initialize(gateway)
    params["timestamp"] = alipay_time(clock.now() - dt.timedelta(minutes=11))
    key = conf.private_key(conf.ensure_sandbox_keys()["app_private"])
    params["sign"] = crypto.alipay_sign_request(key, params)
    assert answer(post(client, params), "zhima.credit.admittance.initialize")["sub_code"] == (
        "isv.invalid-timestamp"
    )
    unknown = json.loads(post(client, {"method": ""}).content)
    assert unknown["error_response"]["code"] == "40002"


@pytest.mark.django_db
def test_a_repeated_parameter_is_refused(client, gateway):
    params = initialize(gateway)
    body = "&".join(f"{k}={v}" for k, v in params.items()) + "&app_id=2021000000000001"
    response = client.post(GATEWAY, body, content_type="application/x-www-form-urlencoded")
    assert json.loads(response.content)["error_response"]["sub_code"] == "isv.invalid-parameter"


@pytest.mark.django_db
def test_the_confirm_page_shows_a_form_and_decides_once(client, gateway):
    content = answer(
        post(client, initialize(gateway, score=550)), "zhima.credit.admittance.initialize"
    )
    url = gateway.page_url(
        "zhima.credit.admittance.confirm",
        {"biz_no": content["biz_no"]},
        return_url="http://testserver/back/",
    )
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200
    assert 'name="decision" value="approve"' in html
    assert 'name="score"' in html
    assert 'value="600"' in html
    decided = client.post(url, {"decision": "approve", "score": "549"})
    assert decided.status_code == 302
    assert decided["Location"].startswith("http://testserver/back/?")
    assert "is_admittance=N" in decided["Location"]
    auth = SandboxAuthorization.objects.get()
    assert (auth.state, auth.is_admittance, auth.score) == ("DONE", "N", 549)
    again = client.post(url, {"decision": "approve", "score": "900"})
    assert "is_admittance=N" in again["Location"]
    assert SandboxAuthorization.objects.get().is_admittance == "N"


@pytest.mark.django_db
def test_a_tampered_confirm_url_is_refused(client, gateway):
    content = answer(post(client, initialize(gateway)), "zhima.credit.admittance.initialize")
    url = gateway.page_url("zhima.credit.admittance.confirm", {"biz_no": content["biz_no"]})
    tampered = url.replace("biz_no%22%3A%22ZM", "biz_no%22%3A%22ZN")
    assert tampered != url
    assert client.post(tampered, {"decision": "approve", "score": "600"}).status_code == 400
    assert SandboxAuthorization.objects.get().state == "INIT"


@pytest.mark.django_db
def test_score_brief_answers_yes_or_no_at_the_threshold(client, gateway):
    user = SandboxUser.objects.create(user_id="2088000000000550", login="t550", score=550)
    for threshold, expected in ((550, "Y"), (551, "N")):
        params = gateway.signed_params(
            "zhima.credit.score.brief.get",
            {
                "transaction_id": f"XYR{threshold}",
                "product_code": "w1010100000000002733",
                "cert_type": "ALIPAY_USER_ID",
                "cert_no": user.user_id,
                "admittance_score": threshold,
            },
        )
        content = answer(post(client, params), "zhima.credit.score.brief.get")
        assert content["is_admittance"] == expected
        assert "score" not in json.dumps(content).replace("admittance_score", "")


@pytest.mark.django_db
def test_rent_orders_follow_zhima_rules(client, gateway):
    user = SandboxUser.objects.create(user_id="2088000000000600", login="t600", score=600)
    now = clock.now()
    create = {
        "out_order_no": "XYC1",
        "product_code": "w1010100000000002858",
        "goods_name": "三体",
        "deposit_amount": "45.00",
        "borrow_time": alipay_time(now - dt.timedelta(minutes=5)),
        "expiry_time": alipay_time(now + dt.timedelta(days=30)),
        "user_id": user.user_id,
    }
    method = "zhima.merchant.order.rent.create"
    first = answer(post(client, gateway.signed_params(method, create)), method)
    again = answer(post(client, gateway.signed_params(method, create)), method)
    assert first["admit_state"] == "Y"
    assert first["order_no"] == again["order_no"]
    assert SandboxOrder.objects.count() == 1
    complete = "zhima.merchant.order.rent.complete"
    too_much = {
        "order_no": first["order_no"],
        "product_code": "w1010100000000002858",
        "restore_time": alipay_time(now),
        "pay_amount_type": "DAMAGE",
        "pay_amount": "45.01",
    }
    assert answer(post(client, gateway.signed_params(complete, too_much)), complete)[
        "sub_code"
    ] == ("PAY_AMOUNT_EXCEED")
    modify = "zhima.merchant.order.rent.modify"
    shorter = {
        "order_no": first["order_no"],
        "product_code": "w1010100000000002858",
        "expiry_time": alipay_time(now + dt.timedelta(days=1)),
    }
    assert answer(post(client, gateway.signed_params(modify, shorter)), modify)["sub_code"] == (
        "EXPIRY_TIME_INVALID"
    )
    ok = {**too_much, "pay_amount": "45.00"}
    assert answer(post(client, gateway.signed_params(complete, ok)), complete)["code"] == "10000"
    order = SandboxOrder.objects.get()
    assert (order.use_state, order.pay_status, order.pay_amount_fen) == (
        "restore",
        "PAY_SUCCESS",
        4500,
    )
    assert answer(post(client, gateway.signed_params(complete, ok)), complete)["code"] == "10000"
    assert SandboxOrder.objects.get().deduction_attempts == 1  # not charged twice
    cancel = "zhima.merchant.order.rent.cancel"
    body = {"order_no": first["order_no"], "product_code": "w1010100000000002858"}
    assert answer(post(client, gateway.signed_params(cancel, body)), cancel)["sub_code"] == (
        "ORDER_IS_RESTORED"
    )


@pytest.mark.django_db
def test_the_control_endpoint_sets_users_and_faults(client, operator_user):
    client.force_login(operator_user)
    response = client.post(
        "/sandbox/zhima/control/users",
        {"login": "t1", "score": 549, "faults": ["duplicate_notify"]},
        content_type="application/json",
    )
    assert response.status_code == 201
    assert response.json()["score"] == 549
    bad = client.post(
        "/sandbox/zhima/control/users",
        {"login": "t2", "faults": ["explode"]},
        content_type="application/json",
    )
    assert bad.status_code == 400
    fault = client.post(
        "/sandbox/zhima/control/faults",
        {"kind": "timeout", "times": 2},
        content_type="application/json",
    )
    assert fault.json() == {
        "id": fault.json()["id"],
        "kind": "timeout",
        "method": "",
        "remaining": 2,
    }
    assert client.delete("/sandbox/zhima/control/faults").json() == {"cleared": 1}


@pytest.mark.django_db
def test_the_sandbox_is_gone_when_switched_off(client, settings, gateway):
    settings.CREDIT_SANDBOX_ENABLED = False
    assert post(client, initialize(gateway)).status_code == 404
