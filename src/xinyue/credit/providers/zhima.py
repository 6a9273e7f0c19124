"""Zhima (Alipay OpenAPI) adapter: RSA2-signed requests, verified answers and notifications.

Transport (``AlipayGateway``): every request is a form POST to ``gateway.do`` with the common
parameters and a JSON ``biz_content``, signed by our app private key over the request rule
(``sign_type`` kept, empty values dropped). A page API is the same parameters as a signed GET
URL that the reader's browser opens. Every answer is verified over the raw ``…_response``
substring with the gateway's public key *before* it is read; a notification is verified over the
V1 rule (``sign_type`` dropped, empty values kept), then its ``app_id`` and time are checked.

Methods used (``zhima.*``; the authorization trio follows Zhima's initialize → page → query
pattern, see docs/decisions.md):

* ``alipay.system.oauth.token`` — channel login (code → user_id);
* ``zhima.credit.admittance.initialize`` / page ``…confirm`` / ``…query`` — the reader's
  authorization and its yes/no at our threshold, also notified as ``zhima_credit_admittance``;
* ``zhima.credit.score.brief.get`` — a re-check of an authorized reader at a threshold (Y/N);
* ``zhima.merchant.order.rent.create|query|modify|complete|cancel`` — credit orders, keyed by
  ``out_order_no`` (Zhima dedupes), notified as ``zm_rent_order``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

import requests

from xinyue.core import clock
from xinyue.core.money import fen_to_yuan, yuan_to_fen
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

log = logging.getLogger("xinyue.credit.zhima")

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
RENT_PRODUCT_CODE = "w1010100000000002858"
ADMITTANCE_PRODUCT_CODE = "w1010100000000002733"
NOTIFY_MAX_AGE = dt.timedelta(hours=72)  # Alipay retries for about 25 hours
NOTIFY_MAX_FUTURE = dt.timedelta(minutes=5)
NOTIFY_ADMITTANCE = "zhima_credit_admittance"
NOTIFY_RENT_ORDER = "zm_rent_order"


def alipay_time(moment: dt.datetime) -> str:
    """``yyyy-MM-dd HH:mm:ss`` in Beijing time."""
    return clock.local(moment).strftime(TIME_FORMAT)


def parse_alipay_time(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=clock.PLATFORM_TZ)


class AlipayGateway:
    """Signed calls to one Alipay-protocol gateway (the real one or the sandbox)."""

    def __init__(
        self,
        *,
        app_id: str,
        gateway_url: str,
        app_private_key: crypto.PrivateKey,
        gateway_public_key: crypto.PublicKey,
        timeout: float | tuple[float, float],
    ) -> None:
        self.app_id = app_id
        self.gateway_url = gateway_url
        self.app_private_key = app_private_key
        self.gateway_public_key = gateway_public_key
        self.timeout = timeout

    def signed_params(
        self,
        method: str,
        biz_content: Mapping[str, Any] | None,
        *,
        extra: Mapping[str, str] | None = None,
        notify_url: str = "",
        return_url: str = "",
    ) -> dict[str, str]:
        params = {
            "app_id": self.app_id,
            "method": method,
            "format": "JSON",
            "charset": "utf-8",
            "sign_type": "RSA2",
            "timestamp": alipay_time(clock.now()),
            "version": "1.0",
        }
        if biz_content is not None:
            params["biz_content"] = json.dumps(
                biz_content, ensure_ascii=False, separators=(",", ":")
            )
        if notify_url:
            params["notify_url"] = notify_url
        if return_url:
            params["return_url"] = return_url
        params.update(extra or {})
        params["sign"] = crypto.alipay_sign_request(self.app_private_key, params)
        return params

    def page_url(
        self,
        method: str,
        biz_content: Mapping[str, Any],
        *,
        return_url: str = "",
        notify_url: str = "",
    ) -> str:
        """A page API: the signed request as a GET URL for the reader's browser."""
        params = self.signed_params(
            method, biz_content, return_url=return_url, notify_url=notify_url
        )
        return f"{self.gateway_url}?{urlencode(params)}"

    def call(
        self,
        method: str,
        biz_content: Mapping[str, Any] | None = None,
        *,
        extra: Mapping[str, str] | None = None,
        notify_url: str = "",
    ) -> dict[str, Any]:
        """POST a signed request; return the verified ``…_response`` object (code 10000 only)."""
        params = self.signed_params(method, biz_content, extra=extra, notify_url=notify_url)
        try:
            response = http.client().post(
                self.gateway_url,
                data=params,
                timeout=self.timeout,
                headers={"Content-Type": "application/x-www-form-urlencoded;charset=utf-8"},
            )
        except requests.Timeout as exc:
            log.warning("alipay %s timed out", method)
            raise ProviderTimeout(f"{method}: no answer in time", code="timeout") from exc
        except requests.RequestException as exc:
            raise ProviderUnavailable(f"{method}: {type(exc).__name__}", code="network") from exc
        if response.status_code >= 500:
            raise ProviderUnavailable(f"{method}: HTTP {response.status_code}", code="http")
        body = response.content.decode("utf-8", errors="replace")
        return self.read_response(method, body)

    def read_response(self, method: str, body: str) -> dict[str, Any]:
        node = crypto.alipay_response_node(method)
        try:
            parts = crypto.alipay_response_parts(body, node)
        except ValueError:
            parts = None
        if parts is None:
            error = _error_response(body)
            raise ProviderError(
                f"{method}: gateway error {error.get('code', '?')} {error.get('sub_code', '')}",
                code=str(error.get("code", "")),
                sub_code=str(error.get("sub_code", "")),
            )
        raw, sign = parts
        if not sign or not crypto.rsa2_verify(self.gateway_public_key, raw, sign):
            log.warning("alipay %s: answer signature invalid", method)
            raise SignatureInvalid(f"{method}: the answer's signature is invalid", code="sign")
        content = json.loads(raw)
        code = str(content.get("code", ""))
        if code == "10000":
            return content
        sub_code = str(content.get("sub_code", ""))
        message = f"{method}: {code} {sub_code} {content.get('sub_msg', '')}".strip()
        if code == "20000":
            raise ProviderUnavailable(message, code=code, sub_code=sub_code)
        if code == "40004" and sub_code.endswith("ORDER_NOT_EXIST"):
            raise OrderNotFound(message, code=code, sub_code=sub_code)
        if code == "40004":
            raise ProviderRefused(message, code=code, sub_code=sub_code)
        raise ProviderError(message, code=code, sub_code=sub_code)


def _error_response(body: str) -> dict[str, Any]:
    try:
        data = json.loads(body)
    except ValueError:
        return {}
    error = data.get("error_response") if isinstance(data, dict) else None
    return error if isinstance(error, dict) else {}


def _order_state(content: Mapping[str, Any], *, now: dt.datetime | None = None) -> OrderState:
    use_state = content.get("use_state") or ""
    admit_state = content.get("admit_state") or ""
    pay_status = content.get("pay_status") or ""
    if use_state == "cancel":
        return OrderState.CANCELLED
    if use_state == "restore":
        if pay_status == "PAY_FAILED":
            return OrderState.CHARGE_FAILED
        if pay_status in ("PAY_INIT", "PAY_INPROGRESS"):
            return OrderState.CHARGING
        if content.get("pay_amount_type") == "DAMAGE" and yuan_to_fen(
            content.get("pay_amount") or "0"
        ):
            return OrderState.CHARGED
        return OrderState.RETURNED
    if use_state == "borrow":
        expiry = content.get("expiry_time")
        if expiry and parse_alipay_time(expiry) < (now or clock.now()):
            return OrderState.OVERDUE
        return OrderState.BORROWED
    if admit_state == "N":
        return OrderState.REJECTED
    return OrderState.PENDING_CONFIRM


class ZhimaProvider:
    """Zhima through the Alipay OpenAPI gateway (``openapi.alipay.com`` or the sandbox)."""

    name = "zhima"

    def __init__(
        self,
        *,
        gateway: AlipayGateway,
        authorize_base: str,
        admittance_product_code: str = ADMITTANCE_PRODUCT_CODE,
        rent_product_code: str = RENT_PRODUCT_CODE,
    ) -> None:
        self.gateway = gateway
        self.authorize_base = authorize_base
        self.admittance_product_code = admittance_product_code
        self.rent_product_code = rent_product_code

    # --- channel login --------------------------------------------------------------------

    def authorize_url(
        self, *, state: str, redirect_uri: str, scopes: tuple[str, ...] = ("auth_base",)
    ) -> str:
        query = urlencode(
            {
                "app_id": self.gateway.app_id,
                "scope": ",".join(scopes),
                "redirect_uri": redirect_uri,
                "state": state,
            }
        )
        return f"{self.authorize_base}?{query}"

    def exchange_code(self, *, code: str) -> ProviderIdentity:
        content = self.gateway.call(
            "alipay.system.oauth.token",
            None,
            extra={"grant_type": "authorization_code", "code": code},
        )
        user_id = str(content.get("user_id") or content.get("open_id") or "")
        if not user_id:
            raise ProviderError("alipay.system.oauth.token: no user_id in the answer")
        expires_in = int(content.get("expires_in") or 0)
        return ProviderIdentity(
            provider=self.name,
            user_id=user_id,
            open_id=str(content.get("open_id") or ""),
            access_token=str(content.get("access_token") or ""),
            expires_at=clock.now() + dt.timedelta(seconds=expires_in) if expires_in else None,
        )

    # --- admittance -----------------------------------------------------------------------

    def begin_admittance(
        self,
        *,
        request_no: str,
        threshold: int,
        return_url: str,
        notify_url: str,
        provider_user_id: str = "",
    ) -> AdmittanceStart:
        biz: dict[str, Any] = {
            "transaction_id": request_no,
            "product_code": self.admittance_product_code,
            "admittance_score": threshold,
        }
        if provider_user_id:
            biz.update(cert_type="ALIPAY_USER_ID", cert_no=provider_user_id)
        content = self.gateway.call(
            "zhima.credit.admittance.initialize", biz, notify_url=notify_url
        )
        biz_no = str(content.get("biz_no") or "")
        if not biz_no:
            raise ProviderError("zhima.credit.admittance.initialize: no biz_no in the answer")
        confirm_url = self.gateway.page_url(
            "zhima.credit.admittance.confirm",
            {"biz_no": biz_no},
            return_url=return_url,
            notify_url=notify_url,
        )
        return AdmittanceStart(request_no=request_no, provider_ref=biz_no, confirm_url=confirm_url)

    def query_admittance(self, *, request_no: str) -> AdmittanceResult:
        content = self.gateway.call("zhima.credit.admittance.query", {"transaction_id": request_no})
        return AdmittanceResult(
            request_no=request_no,
            decision=_decision(content.get("state"), content.get("is_admittance")),
            provider_ref=str(content.get("biz_no") or ""),
            provider_user_id=str(content.get("user_id") or ""),
        )

    def check_admittance(
        self, *, provider_user_id: str, threshold: int, request_no: str
    ) -> AdmittanceResult:
        content = self.gateway.call(
            "zhima.credit.score.brief.get",
            {
                "transaction_id": request_no,
                "product_code": self.admittance_product_code,
                "cert_type": "ALIPAY_USER_ID",
                "cert_no": provider_user_id,
                "admittance_score": threshold,
            },
        )
        return AdmittanceResult(
            request_no=request_no,
            decision=_decision("DONE", content.get("is_admittance")),
            provider_ref=str(content.get("biz_no") or ""),
            provider_user_id=provider_user_id,
        )

    # --- credit orders --------------------------------------------------------------------

    def _order_result(self, content: Mapping[str, Any], out_order_no: str) -> CreditOrderResult:
        pay_amount = content.get("pay_amount") or "0"
        charged = yuan_to_fen(pay_amount) if content.get("pay_amount_type") == "DAMAGE" else 0
        state = _order_state(content)
        expiry = content.get("expiry_time")
        return CreditOrderResult(
            out_order_no=out_order_no,
            state=state,
            provider_order_no=str(content.get("order_no") or ""),
            charged_fen=charged if state == OrderState.CHARGED else 0,
            due_at=parse_alipay_time(expiry) if expiry else None,
        )

    def start_credit_order(self, request: CreditOrderRequest) -> CreditOrderResult:
        biz: dict[str, Any] = {
            "out_order_no": request.out_order_no,
            "product_code": self.rent_product_code,
            "goods_name": request.goods_name[:14],
            "rent_info": "免费借阅",
            "rent_unit": "YUAN",
            "rent_amount": "0.00",
            "deposit_amount": fen_to_yuan(request.deposit_fen),
            "deposit_state": "N",
            "borrow_time": alipay_time(request.borrow_time),
            "expiry_time": alipay_time(request.due_at),
            "invoke_type": "WINDOWS",
            "rent_settle_type": "alipay",
            "borrow_shop_name": request.shop_name[:30],
        }
        if request.provider_user_id:
            # The reader authorized before: opened server-side for that user, no confirm page.
            content = self.gateway.call(
                "zhima.merchant.order.rent.create",
                {**biz, "user_id": request.provider_user_id},
                notify_url=request.notify_url,
            )
            result = self._order_result(content, request.out_order_no)
            if result.state == OrderState.PENDING_CONFIRM and content.get("admit_state") == "Y":
                # No deposit path (``deposit_state`` N) and no page to confirm: Zhima's order
                # moves from admitted straight to ``borrow`` (research note §1.3), so the answer
                # "admitted" is the borrowing a query would read back a moment later.
                result = replace(result, state=OrderState.BORROWED)
            return result
        if request.return_url:
            biz["invoke_return_url"] = request.return_url
        url = self.gateway.page_url(
            "zhima.merchant.order.rent.create",
            biz,
            return_url=request.return_url,
            notify_url=request.notify_url,
        )
        return CreditOrderResult(
            out_order_no=request.out_order_no,
            state=OrderState.PENDING_CONFIRM,
            confirm_url=url,
        )

    def query_order(self, *, out_order_no: str) -> CreditOrderResult:
        content = self.gateway.call(
            "zhima.merchant.order.rent.query",
            {"out_order_no": out_order_no, "product_code": self.rent_product_code},
        )
        return self._order_result(content, out_order_no)

    def _order_no(self, out_order_no: str, provider_order_no: str) -> str:
        if provider_order_no:
            return provider_order_no
        found = self.query_order(out_order_no=out_order_no).provider_order_no
        if not found:
            raise OrderNotFound(f"{out_order_no}: no provider order yet")
        return found

    def extend_order(
        self, *, out_order_no: str, provider_order_no: str, due_at: dt.datetime
    ) -> CreditOrderResult:
        self.gateway.call(
            "zhima.merchant.order.rent.modify",
            {
                "order_no": self._order_no(out_order_no, provider_order_no),
                "product_code": self.rent_product_code,
                "expiry_time": alipay_time(due_at),
            },
        )
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
        damage = reason != CompleteReason.RETURN and charge_fen > 0
        self.gateway.call(
            "zhima.merchant.order.rent.complete",
            {
                "order_no": self._order_no(out_order_no, provider_order_no),
                "product_code": self.rent_product_code,
                "restore_time": alipay_time(returned_at),
                "restore_shop_name": shop_name[:30],
                "pay_amount_type": "DAMAGE" if damage else "RENT",
                "pay_amount": fen_to_yuan(charge_fen if damage else 0),
            },
        )
        # The answer carries no payment state: the order's state is read back.
        return self.query_order(out_order_no=out_order_no)

    def cancel_order(
        self, *, out_order_no: str, provider_order_no: str, reason: str
    ) -> CreditOrderResult:
        self.gateway.call(
            "zhima.merchant.order.rent.cancel",
            {
                "order_no": self._order_no(out_order_no, provider_order_no),
                "product_code": self.rent_product_code,
            },
        )
        return self.query_order(out_order_no=out_order_no)

    # --- notifications --------------------------------------------------------------------

    def parse_notification(self, headers: Mapping[str, str], raw_body: bytes) -> ProviderEvent:
        try:
            text = raw_body.decode("utf-8")
        except UnicodeDecodeError:
            raise SignatureInvalid("notification is not UTF-8") from None
        pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
        params: dict[str, str] = {}
        for key, value in pairs:
            if key in params:  # a value must be single: never let a list slip into the content
                raise SignatureInvalid(f"notification repeats the field {key}")
            params[key] = value
        if not params.get("sign"):
            raise SignatureInvalid("notification has no sign")
        if params.get("sign_type", "RSA2") != "RSA2":
            raise SignatureInvalid("notification sign_type is not RSA2")
        if not crypto.alipay_verify_notification(self.gateway.gateway_public_key, params):
            raise SignatureInvalid("notification signature is invalid")
        if params.get("app_id") != self.gateway.app_id:
            raise SignatureInvalid("notification is for another app_id")
        try:
            sent_at = parse_alipay_time(params.get("notify_time", ""))
        except ValueError:
            raise SignatureInvalid("notification has no valid notify_time") from None
        now = clock.now()
        if sent_at < now - NOTIFY_MAX_AGE or sent_at > now + NOTIFY_MAX_FUTURE:
            raise SignatureInvalid("notification is outside the accepted time window")
        notify_id = params.get("notify_id", "")
        if not notify_id:
            raise SignatureInvalid("notification has no notify_id")
        fields = {k: v for k, v in params.items() if k not in ("sign", "sign_type")}
        notify_type = params.get("notify_type", "")
        if notify_type == NOTIFY_ADMITTANCE:
            return ProviderEvent(
                provider=self.name,
                notify_id=notify_id,
                kind="admittance",
                reference=params.get("transaction_id", ""),
                decision=_decision("DONE", params.get("is_admittance")),
                provider_ref=params.get("biz_no", ""),
                provider_user_id=params.get("user_id", ""),
                fields=fields,
            )
        if notify_type == NOTIFY_RENT_ORDER:
            result = self._order_result(params, params.get("out_order_no", ""))
            return ProviderEvent(
                provider=self.name,
                notify_id=notify_id,
                kind="order",
                reference=params.get("out_order_no", ""),
                order_state=result.state,
                provider_ref=result.provider_order_no,
                provider_user_id=params.get("user_id", ""),
                charged_fen=result.charged_fen,
                fields=fields,
            )
        return ProviderEvent(
            provider=self.name, notify_id=notify_id, kind="other", reference="", fields=fields
        )

    def ack(self, ok: bool) -> HttpReply:
        """Alipay stops retrying only on the plain text ``success``."""
        return HttpReply(200 if ok else 400, "success" if ok else "fail")


def _decision(state: Any, is_admittance: Any) -> Decision:
    if state == "INIT":
        return Decision.PENDING
    if is_admittance == "Y":
        return Decision.ADMITTED
    if is_admittance == "N":
        return Decision.REFUSED
    return Decision.PENDING
