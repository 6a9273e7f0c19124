"""WeChat Pay Score (微信支付分) adapter over APIv3.

Requests carry ``Authorization: WECHATPAY2-SHA256-RSA2048 …`` signed with the merchant API key
over ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n``. Every answer and callback is verified with the
platform public key (serial pinned) over ``TIMESTAMP\\nNONCE\\nBODY\\n`` from the raw bytes, inside a
five-minute window, *before* it is parsed; callback resources are decrypted with AES-256-GCM under
the APIv3 key (a bad tag is a forgery). Dedupe on the event ``id`` happens in our inbox.

Admittance is Pay Score's service authorization (``/v3/payscore/permissions``): the reader opens
the service on WeChat's page, WeChat decides by its own risk rules for our ``service_id`` (the
threshold setting records what the operator configured there), notifies
``PAYSCORE.USER_OPEN_SERVICE`` and answers queries by authorization code or openid.
Credit orders are ``/v3/payscore/serviceorder`` keyed by ``out_order_no``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode

import requests

from xinyue.core import clock
from xinyue.credit import crypto
from xinyue.credit.providers import http
from xinyue.credit.providers.base import (
    AdmittanceResult,
    AdmittanceStart,
    CompleteReason,
    CreditOrderRequest,
    CreditOrderResult,
    Decision,
    HttpReply,
    OrderNotFound,
    OrderState,
    ProviderError,
    ProviderEvent,
    ProviderIdentity,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
    SignatureInvalid,
)

log = logging.getLogger("xinyue.credit.wechat")

TIME_FORMAT = "%Y%m%d%H%M%S"
MAX_SKEW_SECONDS = 300


def payscore_time(moment: dt.datetime) -> str:
    return clock.local(moment).strftime(TIME_FORMAT)


def parse_payscore_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=clock.PLATFORM_TZ)


def verify_platform_signature(
    *,
    headers: Mapping[str, str],
    body: str,
    platform_public_key: crypto.PublicKey,
    platform_serial: str,
    now: float | None = None,
) -> None:
    """Raise ``SignatureInvalid`` unless ``body`` carries a fresh, valid platform signature."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get("wechatpay-timestamp", "")
    nonce = lower.get("wechatpay-nonce", "")
    signature = lower.get("wechatpay-signature", "")
    serial = lower.get("wechatpay-serial", "")
    if not (timestamp and nonce and signature and serial):
        raise SignatureInvalid("missing Wechatpay-* signature headers")
    if serial != platform_serial:
        raise SignatureInvalid("signed with an unknown platform certificate serial")
    try:
        skew = abs((now if now is not None else time.time()) - int(timestamp))
    except ValueError:
        raise SignatureInvalid("Wechatpay-Timestamp is not a number") from None
    if skew > MAX_SKEW_SECONDS:
        raise SignatureInvalid("Wechatpay-Timestamp is outside the five-minute window")
    message = crypto.wechatpay_response_message(timestamp, nonce, body)
    if not crypto.rsa2_verify(platform_public_key, message, signature):
        raise SignatureInvalid("Wechatpay-Signature is invalid")


def _order_state(content: Mapping[str, Any], now: dt.datetime | None = None) -> OrderState:
    state = content.get("state")
    collection = content.get("collection") or {}
    total = int(content.get("total_amount") or 0)
    if state == "CREATED":
        return OrderState.PENDING_CONFIRM
    if state == "REVOKED":
        return OrderState.CANCELLED
    if state == "EXPIRED":
        return OrderState.REJECTED
    if state == "DONE":
        return OrderState.CHARGED if total > 0 else OrderState.RETURNED
    if state == "DOING":
        if content.get("state_description") == "MCH_COMPLETE":
            if collection.get("state") == "USER_PAID":
                return OrderState.CHARGED if total > 0 else OrderState.RETURNED
            if collection.get("state") == "PAY_FAILED":
                return OrderState.CHARGE_FAILED
            return OrderState.CHARGING
        end = (content.get("time_range") or {}).get("end_time")
        if end and parse_payscore_time(end) < (now or clock.now()):
            return OrderState.OVERDUE
        return OrderState.BORROWED
    return OrderState.PENDING_CONFIRM


class WechatPayScoreProvider:
    name = "wechat_payscore"

    def __init__(
        self,
        *,
        base_url: str,
        mchid: str,
        appid: str,
        service_id: str,
        serial_no: str,
        private_key: crypto.PrivateKey,
        platform_public_key: crypto.PublicKey,
        platform_serial: str,
        api_v3_key: str,
        timeout: float | tuple[float, float],
        confirm_url: str = "",
        authorize_base: str = "https://open.weixin.qq.com/connect/oauth2/authorize",
        oauth_api_base: str = "https://api.weixin.qq.com",
        app_secret: str = "",
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.mchid = mchid
        self.appid = appid
        self.service_id = service_id
        self.serial_no = serial_no
        self.private_key = private_key
        self.platform_public_key = platform_public_key
        self.platform_serial = platform_serial
        self.api_v3_key = api_v3_key
        self.timeout = timeout
        self.confirm_url = confirm_url or (self.base_url + "/payscore/confirm?token={token}")
        self.authorize_base = authorize_base
        self.oauth_api_base = oauth_api_base.rstrip("/")
        self.app_secret = app_secret

    # --- transport ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        canonical = path + ("?" + urlencode(query) if query else "")
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":")) if body else ""
        authorization = crypto.wechatpay_authorization(
            self.private_key,
            mchid=self.mchid,
            serial_no=self.serial_no,
            method=method,
            canonical_url=canonical,
            body=text,
            timestamp=str(int(time.time())),
            nonce=crypto.new_nonce(),
        )
        try:
            response = http.client().request(
                method,
                self.base_url + canonical,
                data=text.encode("utf-8") if text else None,
                timeout=self.timeout,
                headers={
                    "Authorization": authorization,
                    "Accept": "application/json",
                    "Content-Type": "application/json",
                    "User-Agent": "xinyue-credit/1",
                },
            )
        except requests.Timeout as exc:
            log.warning("payscore %s %s timed out", method, path)
            raise ProviderTimeout(f"{method} {path}: no answer in time", code="timeout") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"{method} {path}: {type(exc).__name__}") from exc
        raw = response.content.decode("utf-8", errors="replace")
        if response.status_code >= 500 and "wechatpay-signature" not in {
            k.lower() for k in response.headers
        }:
            raise ProviderUnavailable(f"{method} {path}: HTTP {response.status_code}")
        verify_platform_signature(
            headers=response.headers,
            body=raw,
            platform_public_key=self.platform_public_key,
            platform_serial=self.platform_serial,
        )
        data = json.loads(raw) if raw else {}
        if 200 <= response.status_code < 300:
            return data
        code = str(data.get("code", ""))
        message = f"{method} {path}: {response.status_code} {code} {data.get('message', '')}"
        if response.status_code == 404 or code == "ORDER_NOT_EXIST":
            raise OrderNotFound(message, code=code)
        if response.status_code in (429, 500, 502, 503) or code == "SYSTEM_ERROR":
            raise ProviderUnavailable(message, code=code)
        raise ProviderRefused(message, code=code)

    # --- channel login --------------------------------------------------------------------

    def authorize_url(
        self, *, state: str, redirect_uri: str, scopes: tuple[str, ...] = ("snsapi_base",)
    ) -> str:
        query = urlencode(
            {
                "appid": self.appid,
                "redirect_uri": redirect_uri,
                "response_type": "code",
                "scope": ",".join(scopes),
                "state": state,
            }
        )
        return f"{self.authorize_base}?{query}#wechat_redirect"

    def exchange_code(self, *, code: str) -> ProviderIdentity:
        try:
            response = http.client().get(
                f"{self.oauth_api_base}/sns/oauth2/access_token",
                params={
                    "appid": self.appid,
                    "secret": self.app_secret,
                    "code": code,
                    "grant_type": "authorization_code",
                },
                timeout=self.timeout,
            )
            data = response.json()
        except requests.Timeout as exc:
            raise ProviderTimeout("oauth2/access_token: no answer in time") from exc
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"oauth2/access_token: {type(exc).__name__}") from exc
        if not data.get("openid"):
            raise ProviderRefused(
                f"oauth2/access_token: {data.get('errcode')} {data.get('errmsg', '')}",
                code=str(data.get("errcode", "")),
            )
        expires_in = int(data.get("expires_in") or 0)
        return ProviderIdentity(
            provider=self.name,
            user_id=data["openid"],
            open_id=data["openid"],
            access_token=str(data.get("access_token") or ""),
            expires_at=clock.now() + dt.timedelta(seconds=expires_in) if expires_in else None,
        )

    # --- admittance (service authorization) -----------------------------------------------

    def begin_admittance(
        self,
        *,
        request_no: str,
        threshold: int,
        return_url: str,
        notify_url: str,
        provider_user_id: str = "",
    ) -> AdmittanceStart:
        data = self.request(
            "POST",
            "/v3/payscore/permissions",
            body={
                "service_id": self.service_id,
                "appid": self.appid,
                "authorization_code": request_no,
                "notify_url": notify_url,
            },
        )
        token = str(data.get("apply_permissions_token") or "")
        if not token:
            raise ProviderError("payscore permissions: no apply_permissions_token")
        confirm_url = self.confirm_url.format(token=quote(token, safe=""))
        if return_url:
            joiner = "&" if "?" in confirm_url else "?"
            confirm_url += f"{joiner}{urlencode({'return_url': return_url})}"
        return AdmittanceStart(request_no=request_no, provider_ref=token, confirm_url=confirm_url)

    @staticmethod
    def _permission_decision(data: Mapping[str, Any]) -> Decision:
        state = data.get("authorization_state")
        if state == "AVAILABLE":
            return Decision.ADMITTED
        if state == "UNAVAILABLE":
            return Decision.REFUSED
        return Decision.PENDING

    def query_admittance(self, *, request_no: str) -> AdmittanceResult:
        data = self.request(
            "GET",
            f"/v3/payscore/permissions/authorization-code/{quote(request_no, safe='')}",
            query={"service_id": self.service_id},
        )
        return AdmittanceResult(
            request_no=request_no,
            decision=self._permission_decision(data),
            provider_user_id=str(data.get("openid") or ""),
        )

    def check_admittance(
        self, *, provider_user_id: str, threshold: int, request_no: str
    ) -> AdmittanceResult:
        data = self.request(
            "GET",
            f"/v3/payscore/permissions/openid/{quote(provider_user_id, safe='')}",
            query={"appid": self.appid, "service_id": self.service_id},
        )
        return AdmittanceResult(
            request_no=request_no,
            decision=self._permission_decision(data),
            provider_user_id=provider_user_id,
        )

    # --- service orders -------------------------------------------------------------------

    def _result(self, data: Mapping[str, Any], out_order_no: str) -> CreditOrderResult:
        state = _order_state(data)
        end = (data.get("time_range") or {}).get("end_time")
        confirm = ""
        if state == OrderState.PENDING_CONFIRM and data.get("package"):
            confirm = self.confirm_url.format(token=quote(str(data["package"]), safe=""))
        return CreditOrderResult(
            out_order_no=out_order_no,
            state=state,
            provider_order_no=str(data.get("order_id") or ""),
            confirm_url=confirm,
            charged_fen=int(data.get("total_amount") or 0) if state == OrderState.CHARGED else 0,
            due_at=parse_payscore_time(end) if end else None,
        )

    def start_credit_order(self, request: CreditOrderRequest) -> CreditOrderResult:
        body: dict[str, Any] = {
            "out_order_no": request.out_order_no,
            "appid": self.appid,
            "service_id": self.service_id,
            "service_introduction": request.goods_name[:20],
            "time_range": {
                "start_time": payscore_time(request.borrow_time),
                "end_time": payscore_time(request.due_at),
            },
            "risk_fund": {"name": "DEPOSIT", "amount": request.deposit_fen, "description": "图书"},
            "notify_url": request.notify_url,
            "need_user_confirm": not request.provider_user_id,
        }
        if request.provider_user_id:
            body["openid"] = request.provider_user_id
        data = self.request("POST", "/v3/payscore/serviceorder", body=body)
        return self._result(data, request.out_order_no)

    def query_order(self, *, out_order_no: str) -> CreditOrderResult:
        data = self.request(
            "GET",
            "/v3/payscore/serviceorder",
            query={
                "out_order_no": out_order_no,
                "service_id": self.service_id,
                "appid": self.appid,
            },
        )
        return self._result(data, out_order_no)

    def extend_order(
        self, *, out_order_no: str, provider_order_no: str, due_at: dt.datetime
    ) -> CreditOrderResult:
        # A service order's end time is an estimate; the real end is given when completing.
        # Pay Score has no call to move it, so a renewal only has to check the order is open.
        return self.query_order(out_order_no=out_order_no)

    def complete_order(
        self,
        *,
        out_order_no: str,
        provider_order_no: str,
        returned_at: dt.datetime,
        charge_fen: int = 0,
        reason: CompleteReason = CompleteReason.RETURN,
        shop_name: str = "",
    ) -> CreditOrderResult:
        charge = charge_fen if reason != CompleteReason.RETURN else 0
        current = self.query_order(out_order_no=out_order_no)
        path = f"/v3/payscore/serviceorder/{quote(out_order_no, safe='')}"
        if current.state == OrderState.CHARGE_FAILED:
            # Completed before but the deduction failed: ask WeChat to collect again.
            self.request(
                "POST",
                f"{path}/pay",
                body={"appid": self.appid, "service_id": self.service_id},
            )
            return self.query_order(out_order_no=out_order_no)
        if current.state in (OrderState.BORROWED, OrderState.OVERDUE):
            payments = (
                [{"name": "图书赔偿", "amount": charge, "description": reason.value}]
                if charge
                else [{"name": "借阅", "amount": 0, "description": "按期归还"}]
            )
            self.request(
                "POST",
                f"{path}/complete",
                body={
                    "appid": self.appid,
                    "service_id": self.service_id,
                    "post_payments": payments,
                    "total_amount": charge,
                    "time_range": {"end_time": payscore_time(returned_at)},
                },
            )
        return self.query_order(out_order_no=out_order_no)

    def cancel_order(
        self, *, out_order_no: str, provider_order_no: str, reason: str
    ) -> CreditOrderResult:
        self.request(
            "POST",
            f"/v3/payscore/serviceorder/{quote(out_order_no, safe='')}/cancel",
            body={"appid": self.appid, "service_id": self.service_id, "reason": reason[:30]},
        )
        return self.query_order(out_order_no=out_order_no)

    # --- callbacks ------------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], raw_body: bytes) -> ProviderEvent:
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureInvalid("callback is not UTF-8") from None
        verify_platform_signature(
            headers=headers,
            body=text,
            platform_public_key=self.platform_public_key,
            platform_serial=self.platform_serial,
        )
        try:
            envelope = json.loads(text)
            resource = envelope["resource"]
            event_id = str(envelope["id"])
            event_type = str(envelope["event_type"])
        except (ValueError, KeyError, TypeError):
            raise SignatureInvalid("callback body is not a WeChat Pay event") from None
        if resource.get("algorithm") != "AEAD_AES_256_GCM":
            raise SignatureInvalid("callback resource uses an unknown algorithm")
        try:
            plaintext = crypto.aes_gcm_decrypt(
                self.api_v3_key,
                str(resource.get("nonce", "")),
                str(resource.get("associated_data", "")),
                str(resource.get("ciphertext", "")),
            )
            data = json.loads(plaintext)
        except (crypto.InvalidTag, ValueError):
            raise SignatureInvalid("callback resource failed to decrypt (bad tag)") from None
        if data.get("mchid", self.mchid) != self.mchid or data.get("appid") != self.appid:
            raise SignatureInvalid("callback is for another merchant or app")
        fields = {"event_type": event_type, **{k: v for k, v in data.items() if k != "openid"}}
        if event_type in ("PAYSCORE.USER_OPEN_SERVICE", "PAYSCORE.USER_CLOSE_SERVICE"):
            opened = event_type == "PAYSCORE.USER_OPEN_SERVICE"
            return ProviderEvent(
                provider=self.name,
                notify_id=event_id,
                kind="admittance",
                reference=str(data.get("authorization_code") or ""),
                decision=Decision.ADMITTED if opened else Decision.REFUSED,
                provider_user_id=str(data.get("openid") or ""),
                fields=fields,
            )
        if event_type in ("PAYSCORE.USER_CONFIRM", "PAYSCORE.USER_PAID"):
            result = self._result(data, str(data.get("out_order_no") or ""))
            return ProviderEvent(
                provider=self.name,
                notify_id=event_id,
                kind="order",
                reference=result.out_order_no,
                order_state=result.state,
                provider_ref=result.provider_order_no,
                provider_user_id=str(data.get("openid") or ""),
                charged_fen=result.charged_fen,
                fields=fields,
            )
        return ProviderEvent(
            provider=self.name, notify_id=event_id, kind="other", reference="", fields=fields
        )

    def ack(self, ok: bool) -> HttpReply:
        if ok:
            return HttpReply(204, "")
        return HttpReply(
            500,
            json.dumps({"code": "FAIL", "message": "rejected"}),
            "application/json",
        )
