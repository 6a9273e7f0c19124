"""The signing rules of the credit providers, on ``cryptography`` (research note §1.4 and §2).

Alipay OpenAPI (Zhima and our sandbox) — RSA2 = SHA256withRSA, PKCS#1 v1.5:

* a request is signed over the ``&``-joined ``key=value`` pairs of every parameter except ``sign``,
  sorted by key in ASCII byte order, **dropping empty values and keeping** ``sign_type``;
* an async notification is verified over the same kind of string **keeping empty values and
  dropping** ``sign_type`` (``rsaCheckV1``); gateway messages keep ``sign_type`` (``rsaCheckV2``);
* a synchronous answer is verified over the raw ``…_response`` JSON object exactly as received.

WeChat Pay APIv3 — the merchant signs ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` and sends it in
``Authorization: WECHATPAY2-SHA256-RSA2048 mchid=…,nonce_str=…,signature=…,timestamp=…,serial_no=…``;
the platform signs ``TIMESTAMP\\nNONCE\\nBODY\\n`` in ``Wechatpay-*`` headers; callback resources are
AES-256-GCM under the 32-byte APIv3 key with the given nonce and associated data.

Kept apart from the adapters so that the sandbox gateways verify with the very same functions a
real gateway's rules describe, and so that each rule is tested on its own.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PrivateKey = rsa.RSAPrivateKey
PublicKey = rsa.RSAPublicKey


# --- keys -------------------------------------------------------------------------------------


def generate_private_key() -> PrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def private_key_pem(key: PrivateKey) -> bytes:
    """PKCS#8 PEM (what the Alipay Java SDK and most tools expect)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: PrivateKey | PublicKey) -> bytes:
    public = key.public_key() if isinstance(key, rsa.RSAPrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem_body(text: str, kind: str) -> bytes:
    """Accept a full PEM or the bare base64 body Alipay's console shows (one line, no header)."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        return text.encode()
    return f"-----BEGIN {kind}-----\n{text}\n-----END {kind}-----\n".encode()


def load_private_key(data: bytes | str) -> PrivateKey:
    text = data.decode() if isinstance(data, bytes) else data
    key = serialization.load_pem_private_key(_pem_body(text, "PRIVATE KEY"), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("not an RSA private key")
    return key


def load_public_key(data: bytes | str) -> PublicKey:
    text = data.decode() if isinstance(data, bytes) else data
    key = serialization.load_pem_public_key(_pem_body(text, "PUBLIC KEY"))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("not an RSA public key")
    return key


def ensure_key_pair(private_path: Path, public_path: Path) -> None:
    """Generate an RSA-2048 key pair into two files unless the private one exists (first run)."""
    if private_path.exists():
        if not public_path.exists():
            public_path.write_bytes(public_key_pem(load_private_key(private_path.read_bytes())))
        return
    private_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = generate_private_key()
    tmp = private_path.with_suffix(".tmp")
    tmp.write_bytes(private_key_pem(key))
    tmp.chmod(0o600)
    tmp.replace(private_path)
    public_path.write_bytes(public_key_pem(key))


# --- RSA2 (SHA256withRSA, PKCS#1 v1.5) ------------------------------------------------------


def rsa2_sign(key: PrivateKey, content: str | bytes) -> str:
    data = content.encode("utf-8") if isinstance(content, str) else content
    return base64.b64encode(key.sign(data, padding.PKCS1v15(), hashes.SHA256())).decode("ascii")


def rsa2_verify(key: PublicKey, content: str | bytes, signature: str) -> bool:
    """True only for a well-formed base64 signature over exactly ``content``; never raises."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    try:
        key.verify(raw, data, padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


# --- Alipay OpenAPI ---------------------------------------------------------------------------


def alipay_sign_content(
    params: Mapping[str, object], *, drop_sign_type: bool, drop_empty: bool
) -> str:
    """``k1=v1&k2=v2`` over ``params`` minus ``sign`` (and ``sign_type`` if asked), sorted by key.

    Values are raw (not URL-encoded). ``drop_empty`` drops ``None`` and ``""`` values.
    """
    pairs = []
    for key in sorted(params):
        value = params[key]
        if key == "sign" or (drop_sign_type and key == "sign_type"):
            continue
        if drop_empty and value in (None, ""):
            continue
        pairs.append(f"{key}={'' if value is None else value}")
    return "&".join(pairs)


def alipay_request_content(params: Mapping[str, object]) -> str:
    """What the merchant signs and the gateway verifies: keep ``sign_type``, drop empty values."""
    return alipay_sign_content(params, drop_sign_type=False, drop_empty=True)


def alipay_notify_content(params: Mapping[str, object], *, keep_sign_type: bool = False) -> str:
    """What the gateway signs in a notification: drop ``sign_type`` (V1), keep empty values.

    ``keep_sign_type=True`` is the V2 rule of messages to the application gateway.
    """
    return alipay_sign_content(params, drop_sign_type=not keep_sign_type, drop_empty=False)


def alipay_sign_request(key: PrivateKey, params: Mapping[str, object]) -> str:
    return rsa2_sign(key, alipay_request_content(params))


def alipay_verify_request(key: PublicKey, params: Mapping[str, object]) -> bool:
    sign = params.get("sign")
    return isinstance(sign, str) and rsa2_verify(key, alipay_request_content(params), sign)


def alipay_sign_notification(
    key: PrivateKey, params: Mapping[str, object], *, keep_sign_type: bool = False
) -> str:
    return rsa2_sign(key, alipay_notify_content(params, keep_sign_type=keep_sign_type))


def alipay_verify_notification(
    key: PublicKey, params: Mapping[str, object], *, keep_sign_type: bool = False
) -> bool:
    sign = params.get("sign")
    return isinstance(sign, str) and rsa2_verify(
        key, alipay_notify_content(params, keep_sign_type=keep_sign_type), sign
    )


def alipay_response_node(method: str) -> str:
    """``zhima.merchant.order.rent.query`` → ``zhima_merchant_order_rent_query_response``."""
    return method.replace(".", "_") + "_response"


def _matching_brace(text: str, start: int) -> int:
    """Index just past the ``}`` that closes the object opened at ``text[start] == "{"``."""
    depth = 0
    in_string = False
    escaped = False
    for i in range(start, len(text)):
        ch = text[i]
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            if depth == 0:
                return i + 1
    raise ValueError("unterminated JSON object")


def alipay_response_parts(body: str, node: str) -> tuple[str, str] | None:
    """The raw ``"<node>": {…}`` object text as received and the ``sign`` beside it.

    Returns None when the node is absent. The object text is the exact substring of ``body`` —
    never re-serialized — because that substring is what the gateway signed.
    """
    match = re.search(r'"' + re.escape(node) + r'"\s*:\s*\{', body)
    if match is None:
        return None
    start = match.end() - 1
    end = _matching_brace(body, start)
    try:
        sign = json.loads(body).get("sign") or ""
    except (ValueError, AttributeError):
        return None
    return body[start:end], sign if isinstance(sign, str) else ""


def alipay_response_body(node: str, content: dict, key: PrivateKey | None) -> str:
    """What a gateway sends: ``{"<node>": {…}, "sign": "…"}``, signing the serialized object."""
    raw = json.dumps(content, ensure_ascii=False, separators=(",", ":"))
    sign = rsa2_sign(key, raw) if key is not None else ""
    return '{"' + node + '":' + raw + ',"sign":' + json.dumps(sign) + "}"


# --- WeChat Pay APIv3 -------------------------------------------------------------------------

WECHATPAY_SCHEMA = "WECHATPAY2-SHA256-RSA2048"


def wechatpay_request_message(
    method: str, canonical_url: str, timestamp: str, nonce: str, body: str
) -> str:
    """``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n``: five lines, each ending with ``\\n``."""
    return f"{method.upper()}\n{canonical_url}\n{timestamp}\n{nonce}\n{body}\n"


def wechatpay_response_message(timestamp: str, nonce: str, body: str) -> str:
    """``TIMESTAMP\\nNONCE\\nBODY\\n`` over the raw body, for answers and callbacks."""
    return f"{timestamp}\n{nonce}\n{body}\n"


def new_nonce() -> str:
    return secrets.token_hex(16).upper()


def wechatpay_authorization(
    key: PrivateKey,
    *,
    mchid: str,
    serial_no: str,
    method: str,
    canonical_url: str,
    body: str,
    timestamp: str,
    nonce: str,
) -> str:
    signature = rsa2_sign(
        key, wechatpay_request_message(method, canonical_url, timestamp, nonce, body)
    )
    return (
        f'{WECHATPAY_SCHEMA} mchid="{mchid}",nonce_str="{nonce}",signature="{signature}",'
        f'timestamp="{timestamp}",serial_no="{serial_no}"'
    )


_AUTH_PARAM = re.compile(r'(\w+)="([^"]*)"')


def parse_wechatpay_authorization(header: str) -> dict[str, str] | None:
    """The parameters of an ``Authorization`` header of the APIv3 schema, or None."""
    schema, _, rest = header.partition(" ")
    if schema != WECHATPAY_SCHEMA:
        return None
    params = dict(_AUTH_PARAM.findall(rest))
    if not {"mchid", "nonce_str", "signature", "timestamp", "serial_no"} <= params.keys():
        return None
    return params


def aes_gcm_decrypt(
    api_v3_key: str | bytes, nonce: str, associated_data: str, ciphertext: str
) -> bytes:
    """Decrypt a callback ``resource``; raises ``InvalidTag`` on a wrong key or any tampering."""
    key = api_v3_key.encode() if isinstance(api_v3_key, str) else api_v3_key
    if len(key) != 32:
        raise ValueError("the APIv3 key must be 32 bytes")
    data = base64.b64decode(ciphertext)
    return AESGCM(key).decrypt(nonce.encode(), data, (associated_data or "").encode())


def aes_gcm_encrypt(
    api_v3_key: str | bytes, nonce: str, associated_data: str, plaintext: bytes
) -> str:
    key = api_v3_key.encode() if isinstance(api_v3_key, str) else api_v3_key
    return base64.b64encode(
        AESGCM(key).encrypt(nonce.encode(), plaintext, (associated_data or "").encode())
    ).decode()


__all__ = [
    "InvalidTag",
    "aes_gcm_decrypt",
    "aes_gcm_encrypt",
    "alipay_notify_content",
    "alipay_request_content",
    "alipay_response_body",
    "alipay_response_node",
    "alipay_response_parts",
    "alipay_sign_notification",
    "alipay_sign_request",
    "alipay_verify_notification",
    "alipay_verify_request",
    "ensure_key_pair",
    "load_private_key",
    "load_public_key",
    "parse_wechatpay_authorization",
    "rsa2_sign",
    "rsa2_verify",
    "wechatpay_authorization",
    "wechatpay_request_message",
    "wechatpay_response_message",
]
