"""The signing rules, one by one: exact strings, and a one-byte change always rejected."""

from __future__ import annotations

import base64
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xinyue.credit import crypto

KEY = crypto.generate_private_key()
PUBLIC = KEY.public_key()
OTHER = crypto.generate_private_key()

PARAMS = {
    "app_id": "2021000000000001",
    "method": "zhima.merchant.order.rent.query",
    "format": "JSON",
    "charset": "utf-8",
    "sign_type": "RSA2",
    "timestamp": "2026-03-12 09:30:15",
    "version": "1.0",
    "notify_url": "",
    "biz_content": '{"out_order_no":"XYC1","product_code":"w1010100000000002858"}',
}


def test_request_content_keeps_sign_type_and_drops_empty_values():
    content = crypto.alipay_request_content({**PARAMS, "sign": "x"})
    assert content == (
        'app_id=2021000000000001&biz_content={"out_order_no":"XYC1","product_code":'
        '"w1010100000000002858"}&charset=utf-8&format=JSON'
        "&method=zhima.merchant.order.rent.query&sign_type=RSA2&timestamp=2026-03-12 09:30:15"
        "&version=1.0"
    )


def test_notify_content_drops_sign_type_and_keeps_empty_values():
    fields = {"notify_id": "n1", "sign_type": "RSA2", "sign": "x", "user_id": "", "b": "2"}
    assert crypto.alipay_notify_content(fields) == "b=2&notify_id=n1&user_id="
    assert crypto.alipay_notify_content(fields, keep_sign_type=True) == (
        "b=2&notify_id=n1&sign_type=RSA2&user_id="
    )


def test_keys_sort_in_ascii_byte_order():
    assert crypto.alipay_request_content({"b": "1", "B": "2", "a_b": "3", "ab": "4"}) == (
        "B=2&a_b=3&ab=4&b=1"
    )


def test_request_signature_round_trips_and_rejects_each_rule_mixup():
    signed = {**PARAMS, "sign": crypto.alipay_sign_request(KEY, PARAMS)}
    assert crypto.alipay_verify_request(PUBLIC, signed)
    # The same signature checked under the notification rule (sign_type dropped) fails.
    assert not crypto.alipay_verify_notification(PUBLIC, signed)
    # Another key's signature fails.
    forged = {**PARAMS, "sign": crypto.alipay_sign_request(OTHER, PARAMS)}
    assert not crypto.alipay_verify_request(PUBLIC, forged)


def test_signatures_are_sha256_with_rsa_pkcs1_v15():
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signature = crypto.rsa2_sign(KEY, "abc")
    PUBLIC.verify(base64.b64decode(signature), b"abc", padding.PKCS1v15(), hashes.SHA256())
    assert "\n" not in signature


def test_malformed_signatures_are_rejected_not_raised():
    assert not crypto.rsa2_verify(PUBLIC, "abc", "not base64!")
    assert not crypto.rsa2_verify(PUBLIC, "abc", "")
    assert not crypto.rsa2_verify(PUBLIC, "abc", base64.b64encode(b"short").decode())


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_one_byte_change_of_a_signed_request_is_rejected(data):
    signed = {**PARAMS, "sign": crypto.alipay_sign_request(KEY, PARAMS)}
    key = data.draw(st.sampled_from([k for k in PARAMS if PARAMS[k]]))
    value = signed[key].encode()
    position = data.draw(st.integers(0, len(value) - 1))
    flipped = bytes([value[position] ^ data.draw(st.integers(1, 127))])
    changed = (value[:position] + flipped + value[position + 1 :]).decode("latin-1")
    assert not crypto.alipay_verify_request(PUBLIC, {**signed, key: changed})


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_any_one_byte_change_of_a_signed_notification_is_rejected(data):
    fields = {
        "notify_id": "3f2a",
        "notify_time": "2026-03-12 09:31:00",
        "notify_type": "zhima_credit_admittance",
        "app_id": "2021000000000001",
        "transaction_id": "XYA1",
        "is_admittance": "Y",
        "user_id": "2088000000000001",
    }
    signed = {**fields, "sign_type": "RSA2", "sign": crypto.alipay_sign_notification(KEY, fields)}
    assert crypto.alipay_verify_notification(PUBLIC, signed)
    key = data.draw(st.sampled_from(sorted(fields)))
    value = signed[key]
    position = data.draw(st.integers(0, len(value) - 1))
    replacement = data.draw(st.characters(codec="ascii").filter(lambda c: c != value[position]))
    assert not crypto.alipay_verify_notification(
        PUBLIC, {**signed, key: value[:position] + replacement + value[position + 1 :]}
    )


def test_response_is_verified_over_the_raw_substring_as_received():
    node = "zhima_credit_admittance_query_response"
    # Odd spacing, key order and braces inside strings: re-serializing would change the bytes.
    raw = '{"code":"10000","msg":"Success","note":"a } b { c \\" }","is_admittance":"Y"}'
    body = '{ "' + node + '" :  ' + raw + ' ,"sign":"' + crypto.rsa2_sign(KEY, raw) + '"}'
    found, sign = crypto.alipay_response_parts(body, node)
    assert found == raw
    assert crypto.rsa2_verify(PUBLIC, found, sign)
    reserialized = json.dumps(json.loads(raw))
    assert not crypto.rsa2_verify(PUBLIC, reserialized, sign)
    tampered = body.replace('"is_admittance":"Y"', '"is_admittance":"N"')
    found, sign = crypto.alipay_response_parts(tampered, node)
    assert not crypto.rsa2_verify(PUBLIC, found, sign)


def test_response_body_helper_signs_what_it_sends():
    body = crypto.alipay_response_body("x_response", {"code": "10000", "名": "林"}, KEY)
    raw, sign = crypto.alipay_response_parts(body, "x_response")
    assert json.loads(raw) == {"code": "10000", "名": "林"}
    assert crypto.rsa2_verify(PUBLIC, raw, sign)
    assert crypto.alipay_response_parts(body, "y_response") is None


def test_wechatpay_messages_have_five_and_three_lines():
    assert (
        crypto.wechatpay_request_message(
            "post", "/v3/payscore/serviceorder?a=1", "1554208460", "593BEC0C", '{"x":1}'
        )
        == 'POST\n/v3/payscore/serviceorder?a=1\n1554208460\n593BEC0C\n{"x":1}\n'
    )
    assert crypto.wechatpay_request_message("GET", "/v3/x", "1", "N", "") == "GET\n/v3/x\n1\nN\n\n"
    assert crypto.wechatpay_response_message("1", "N", "{}") == "1\nN\n{}\n"


def test_wechatpay_authorization_header_round_trips():
    header = crypto.wechatpay_authorization(
        KEY,
        mchid="1900000001",
        serial_no="5157F09EFDC096DE15EBE81A47057A72",
        method="GET",
        canonical_url="/v3/payscore/serviceorder?out_order_no=1",
        body="",
        timestamp="1554208460",
        nonce="593BEC0C930BF1AFEB40B4A08C8FB242",
    )
    assert header.startswith('WECHATPAY2-SHA256-RSA2048 mchid="1900000001",nonce_str="593BEC0C')
    params = crypto.parse_wechatpay_authorization(header)
    message = crypto.wechatpay_request_message(
        "GET",
        "/v3/payscore/serviceorder?out_order_no=1",
        params["timestamp"],
        params["nonce_str"],
        "",
    )
    assert crypto.rsa2_verify(PUBLIC, message, params["signature"])
    changed = crypto.wechatpay_request_message(
        "GET",
        "/v3/payscore/serviceorder?out_order_no=2",
        params["timestamp"],
        params["nonce_str"],
        "",
    )
    assert not crypto.rsa2_verify(PUBLIC, changed, params["signature"])
    assert crypto.parse_wechatpay_authorization("Bearer x") is None
    assert crypto.parse_wechatpay_authorization('WECHATPAY2-SHA256-RSA2048 mchid="1"') is None


def test_aes_gcm_callback_resource_decrypts_and_any_tampering_fails():
    api_key = "0123456789abcdef0123456789abcdef"
    ciphertext = crypto.aes_gcm_encrypt(api_key, "abcdefghijkl", "payscore", b'{"state":"DOING"}')
    assert crypto.aes_gcm_decrypt(api_key, "abcdefghijkl", "payscore", ciphertext) == (
        b'{"state":"DOING"}'
    )
    raw = bytearray(base64.b64decode(ciphertext))
    raw[3] ^= 1
    tampered = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(crypto.InvalidTag):
        crypto.aes_gcm_decrypt(api_key, "abcdefghijkl", "payscore", tampered)
    with pytest.raises(crypto.InvalidTag):
        crypto.aes_gcm_decrypt(api_key, "abcdefghijkl", "payscorf", ciphertext)
    with pytest.raises(crypto.InvalidTag):
        crypto.aes_gcm_decrypt(api_key, "abcdefghijkm", "payscore", ciphertext)
    with pytest.raises(crypto.InvalidTag):
        crypto.aes_gcm_decrypt("f" * 32, "abcdefghijkl", "payscore", ciphertext)


def test_keys_are_generated_once_and_load_from_bare_base64(tmp_path):
    private, public = tmp_path / "k.pem", tmp_path / "k.pub"
    crypto.ensure_key_pair(private, public)
    first = private.read_bytes()
    crypto.ensure_key_pair(private, public)
    assert private.read_bytes() == first
    assert oct(private.stat().st_mode & 0o777) == "0o600"
    bare = "".join(public.read_text().strip().splitlines()[1:-1])  # as Alipay's console shows it
    key = crypto.load_public_key(bare)
    signature = crypto.rsa2_sign(crypto.load_private_key(first), "x")
    assert crypto.rsa2_verify(key, "x", signature)
