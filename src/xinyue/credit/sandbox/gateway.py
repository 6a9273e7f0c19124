"""The sandbox gateway: Zhima's side of the wire, verifying and signing exactly as Alipay does.

* A request (API POST or page GET) is checked like ``gateway.do``: required common parameters,
  a registered ``app_id``, ``sign_type=RSA2``, the RSA2 signature over the request rule with the
  app's public key (``sign_type`` kept, empty values dropped), the timestamp window, ``charset``,
  ``version`` and a JSON ``biz_content``. Failures answer ``40001``/``40002`` like Alipay.
* An answer is ``{"<method>_response": {…}, "sign": "…"}`` signed over the exact serialized
  object with the sandbox's own private key.
* Notifications are form POSTs signed with the V1 rule (``sign_type`` and ``sign`` excluded,
  empty values kept), delivered by background work and retried until the merchant answers
  ``success``.
* Faults (timeout, unavailable, duplicate or missing notifications, failed deduction, bad
  signature) come from the control endpoint or from the test user.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction

from xinyue.core import clock
from xinyue.core.money import fen_to_yuan, yuan_to_fen
from xinyue.core.retries import Backoff
from xinyue.core.rows import row_where
from xinyue.credit import conf, crypto
from xinyue.credit.providers import http
from xinyue.credit.sandbox.models import (
    SandboxAuthorization,
    SandboxFault,
    SandboxNotification,
    SandboxOAuthCode,
    SandboxOrder,
    SandboxUser,
)

log = logging.getLogger("xinyue.credit.sandbox")


TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
API_SKEW = dt.timedelta(minutes=10)
PAGE_SKEW = dt.timedelta(minutes=30)
DEFAULT_SCORE = 600
RENT_MIN_SCORE = 550  # the sandbox's own risk rule for rent orders
PAGE_METHODS = {"zhima.credit.admittance.confirm", "zhima.merchant.order.rent.create"}
REQUIRED = ("app_id", "method", "charset", "sign_type", "sign", "timestamp", "version")
# Alipay's spacing of notification retries, seconds: 8 attempts in all.
BACKOFF = Backoff(steps=(240, 600, 600, 3600, 7200, 21600, 54000), max_attempts=8)
MESSAGES = {
    "10000": "Success",
    "20000": "Service Currently Unavailable",
    "40001": "Missing Required Arguments",
    "40002": "Invalid Arguments",
    "40004": "Business Failed",
}


class GatewayError(Exception):
    def __init__(self, code: str, sub_code: str = "", sub_msg: str = "") -> None:
        super().__init__(f"{code} {sub_code} {sub_msg}")
        self.code = code
        self.sub_code = sub_code
        self.sub_msg = sub_msg

    def content(self) -> dict[str, str]:
        content = {"code": self.code, "msg": MESSAGES.get(self.code, "Error")}
        if self.sub_code:
            content.update(sub_code=self.sub_code, sub_msg=self.sub_msg)
        return content


# --- keys and registered apps -----------------------------------------------------------------


def gateway_private_key() -> crypto.PrivateKey:
    paths = conf.ensure_sandbox_keys()
    return conf.private_key(paths["gateway_private"])


def app_public_key(app_id: str) -> crypto.PublicKey | None:
    """The public key the merchant ``app_id`` registered (uploaded to the console)."""
    apps = dict(settings.CREDIT_SANDBOX_APPS)
    if not apps:
        config = conf.provider_config("sandbox")
        paths = conf.ensure_sandbox_keys()
        apps = {config.get("app_id") or "2021000000000001": str(paths["app_public"])}
    path = apps.get(app_id)
    if not path or not Path(path).exists():
        return None
    return conf.public_key(path)


# --- faults -----------------------------------------------------------------------------------


# Set for the length of one API call: whether the control fault table was empty when it began.
_no_control_faults: ContextVar[bool] = ContextVar("sandbox_no_control_faults", default=False)


@contextmanager
def _one_fault_lookup() -> Iterator[None]:
    """One look at the control fault table per API call: a call asks about faults three to five
    times (unavailable, timeout, bad signature, missing or doubled notifications), each a locking
    query in its own transaction, though the table is nearly always empty. A fault set while the call runs
    applies from the next call, as if it had arrived a moment later."""
    token = _no_control_faults.set(not SandboxFault.objects.exists())
    try:
        yield
    finally:
        _no_control_faults.reset(token)


def take_fault(kind: str, *, method: str = "", user: SandboxUser | None = None) -> bool:
    """Whether fault ``kind`` applies now (consuming one use of a counted control fault)."""
    if user is not None and user.has_fault(kind):
        return True
    if _no_control_faults.get():
        return False
    with transaction.atomic():
        candidates = SandboxFault.objects.select_for_update().filter(kind=kind)
        for fault in candidates:
            if fault.method and fault.method != method:
                continue
            if fault.remaining is None:
                return True
            if fault.remaining <= 0:
                continue
            SandboxFault.objects.filter(pk=fault.pk).update(remaining=fault.remaining - 1)
            if fault.remaining == 1:
                SandboxFault.objects.filter(pk=fault.pk).delete()
            return True
    return False


# --- request checking -------------------------------------------------------------------------


def _single_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for key, value in pairs:
        if key in params:
            raise GatewayError("40002", "isv.invalid-parameter", f"参数 {key} 重复")
        params[key] = value
    return params


def parse_params(query_pairs: list[tuple[str, str]], form_pairs: list[tuple[str, str]]) -> dict:
    """Common parameters may travel in the query string, the rest in the form body."""
    params = _single_values(query_pairs)
    for key, value in _single_values(form_pairs).items():
        if key in params:
            raise GatewayError("40002", "isv.invalid-parameter", f"参数 {key} 重复")
        params[key] = value
    return params


def verify_request(params: Mapping[str, str], *, page: bool = False) -> dict[str, Any]:
    """Check a merchant request as ``gateway.do`` does; return its parsed ``biz_content``."""
    for name in REQUIRED:
        if not params.get(name):
            raise GatewayError("40001", f"isv.missing-{name.replace('_', '-')}", f"缺少参数 {name}")
    key = app_public_key(params["app_id"])
    if key is None:
        raise GatewayError("40002", "isv.invalid-app-id", "无效的AppID参数")
    if params["sign_type"] != "RSA2":
        raise GatewayError("40002", "isv.invalid-signature-type", "无效的签名类型")
    if not crypto.alipay_verify_request(key, params):
        raise GatewayError("40002", "isv.invalid-signature", "验签出错")
    try:
        sent = dt.datetime.strptime(params["timestamp"], TIME_FORMAT).replace(
            tzinfo=clock.PLATFORM_TZ
        )
    except ValueError:
        raise GatewayError("40002", "isv.invalid-timestamp", "非法的时间戳参数") from None
    if abs(clock.now() - sent) > (PAGE_SKEW if page else API_SKEW):
        raise GatewayError("40002", "isv.invalid-timestamp", "时间戳超出允许范围")
    if params["charset"].lower() not in ("utf-8", "utf8"):
        raise GatewayError("40002", "isv.invalid-charset", "字符集错误")
    if params["version"] != "1.0":
        raise GatewayError("40002", "isv.invalid-version", "版本号错误")
    if params.get("format", "JSON").upper() != "JSON":
        raise GatewayError("40002", "isv.invalid-format", "格式错误")
    raw = params.get("biz_content", "")
    if not raw:
        return {}
    try:
        biz = json.loads(raw)
    except ValueError:
        raise GatewayError("40002", "isv.invalid-biz-content", "biz_content 不是 JSON") from None
    if not isinstance(biz, dict):
        raise GatewayError("40002", "isv.invalid-biz-content", "biz_content 不是 JSON 对象")
    return biz


def signed_answer(method: str, content: Mapping[str, Any]) -> str:
    key = gateway_private_key()
    if take_fault(SandboxFault.Kind.BAD_SIGNATURE, method=method):
        key = crypto.generate_private_key()
    return crypto.alipay_response_body(crypto.alipay_response_node(method), dict(content), key)


def error_answer(error: GatewayError) -> str:
    return json.dumps({"error_response": error.content(), "sign": ""}, ensure_ascii=False)


@dataclass
class Answer:
    body: str
    delay_seconds: float = 0.0


def handle_api(params: Mapping[str, str]) -> Answer:
    """One API call to ``gateway.do``: verify, dispatch, sign; faults decide delay/failure."""
    with _one_fault_lookup():
        return _handle_api(params)


def _handle_api(params: Mapping[str, str]) -> Answer:
    method = params.get("method", "")
    handler = API_METHODS.get(method)
    if handler is None:
        error = GatewayError("40002", "isv.invalid-method", "不存在的方法名")
        return Answer(error_answer(error) if not method else signed_answer(method, error.content()))
    try:
        biz = verify_request(params)
        if take_fault(SandboxFault.Kind.UNAVAILABLE, method=method):
            raise GatewayError("20000", "isp.unknow-error", "服务暂不可用")
        content, late = handler(params, biz)
    except GatewayError as exc:
        return Answer(signed_answer(method, exc.content()))
    delay = 0.0
    if late or take_fault(SandboxFault.Kind.TIMEOUT, method=method):
        delay = float(settings.CREDIT_SANDBOX_TIMEOUT_DELAY_SECONDS)
    return Answer(signed_answer(method, {"code": "10000", "msg": "Success", **content}), delay)


# --- helpers ----------------------------------------------------------------------------------


def _time(moment: dt.datetime | None) -> str:
    return clock.local(moment).strftime(TIME_FORMAT) if moment else ""


def _parse_time(text: Any, field: str) -> dt.datetime:
    try:
        return dt.datetime.strptime(str(text), TIME_FORMAT).replace(tzinfo=clock.PLATFORM_TZ)
    except ValueError:
        raise GatewayError(
            "40004", "INVALID_PARAMETER", f"{field} 格式应为 yyyy-MM-dd HH:mm:ss"
        ) from None


def _new_no(prefix: str) -> str:
    return f"{prefix}{clock.local(clock.now()):%Y%m%d%H%M%S}{secrets.randbelow(10**8):08d}"


def new_user(
    *, login: str = "", score: int = DEFAULT_SCORE, faults: list[str] | None = None
) -> SandboxUser:
    user_id = "2088" + "".join(str(secrets.randbelow(10)) for _ in range(12))
    return SandboxUser.objects.create(
        user_id=user_id,
        login=login or f"sandbox-{user_id[-8:]}",
        score=score,
        faults=faults or [],
    )


def user_by_login(login: str, *, score: int | None = None) -> SandboxUser:
    """The test user with this login, created on first use (the page's "enter a test user")."""
    login = login.strip()[:64]
    user = SandboxUser.objects.filter(login=login).first() if login else None
    if user is None:
        try:
            with transaction.atomic():
                user = new_user(login=login, score=score if score is not None else DEFAULT_SCORE)
        except IntegrityError:
            user = SandboxUser.objects.get(login=login)
    elif score is not None and user.score != score:
        user.score = score
        user.save(update_fields=["score"])
    return user


def set_user_password(user: SandboxUser, password: str) -> SandboxUser:
    """Give a test user a sandbox password (blank: none). Stored as a Django password hash."""
    user.password = make_password(password) if password else ""
    user.save(update_fields=["password"])
    return user


def _bound_user_ids() -> Any:
    """Sandbox user ids bound to a platform reader (a channel log-in identity)."""
    from xinyue.readers.selectors.identity import bound_external_ids

    return bound_external_ids(provider="sandbox")


def free_users(limit: int = 12) -> list[SandboxUser]:
    """Test users anyone may pick: no password, bound to no reader (never a reader's account)."""
    return list(
        SandboxUser.objects.filter(password="")
        .exclude(user_id__in=_bound_user_ids())
        .order_by("-id")[:limit]
    )


def login_user(login: str, password: str, *, score: int | None = None) -> SandboxUser:
    """The test user a page log-in names, created on first use (with the typed password).

    An existing user with a password needs it; a user bound to a platform reader is never
    usable without its password (with none set it cannot be used here at all): otherwise
    anyone could log in to the platform as that reader through the sandbox.
    """
    login = login.strip()[:64]
    user = SandboxUser.objects.filter(login=login).first() if login else None
    if user is None:
        user = user_by_login(login, score=score)
        if password and not user.password:
            set_user_password(user, password)
        return user
    bound = SandboxUser.objects.filter(pk=user.pk, user_id__in=_bound_user_ids()).exists()
    if (user.password or bound) and not (
        password and user.password and check_password(password, user.password)
    ):
        raise GatewayError("40004", "USER_PASSWORD_INVALID", "测试用户名或密码错误")
    if score is not None and user.score != score:
        user.score = score
        user.save(update_fields=["score"])
    return user


def _amount_fen(value: Any, field: str) -> int:
    try:
        return yuan_to_fen(str(value))
    except ValueError:
        raise GatewayError("40004", "INVALID_PARAMETER", f"{field} 金额格式错误") from None


# --- notifications ----------------------------------------------------------------------------


def queue_notification(
    *, url: str, notify_type: str, app_id: str, fields: Mapping[str, str], user: SandboxUser | None
) -> list[SandboxNotification]:
    """Sign a V1 notification and queue its delivery after commit (twice under the fault)."""
    if not url or take_fault(SandboxFault.Kind.NO_NOTIFY, user=user):
        return []
    params = {
        "notify_id": secrets.token_hex(16),
        "notify_time": _time(clock.now()),
        "notify_type": notify_type,
        "app_id": app_id,
        "charset": "utf-8",
        "version": "1.0",
        "sign_type": "RSA2",
        **{k: "" if v is None else str(v) for k, v in fields.items()},
    }
    params["sign"] = crypto.alipay_sign_notification(gateway_private_key(), params)
    copies = 2 if take_fault(SandboxFault.Kind.DUPLICATE_NOTIFY, user=user) else 1
    rows = [
        SandboxNotification.objects.create(notify_id=params["notify_id"], url=url, params=params)
        for _ in range(copies)
    ]
    from xinyue.credit.tasks import deliver_sandbox_notification

    for row in rows:
        transaction.on_commit(
            lambda pk=row.pk: deliver_sandbox_notification.enqueue(notification_id=pk)
        )
    return rows


def attempt_notification(*, notification_id: int) -> int | None:
    """POST one notification once; returns how many attempts failed when it should be tried
    again (by ``BACKOFF``), or None when done."""
    row = row_where(SandboxNotification, "id = %s", [notification_id])  # raw: see core.rows
    if row is None or row.status != SandboxNotification.Status.PENDING:
        return None
    claimed = SandboxNotification.objects.filter(
        pk=row.pk, status=SandboxNotification.Status.PENDING, attempts=row.attempts
    ).update(attempts=row.attempts + 1)
    if not claimed:
        return None
    attempts = row.attempts + 1
    error = ""
    try:
        response = http.client().post(
            row.url,
            data=row.params,
            timeout=10,
            headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
        )
        if response.text.strip() == "success":
            SandboxNotification.objects.filter(pk=row.pk).update(
                status=SandboxNotification.Status.DELIVERED, delivered_at=clock.now(), last_error=""
            )
            return None
        error = f"HTTP {response.status_code}: {response.text[:80]}"
    except requests.RequestException as exc:
        error = type(exc).__name__
    final = BACKOFF.gives_up(attempts)
    SandboxNotification.objects.filter(pk=row.pk).update(
        last_error=error[:200],
        status=SandboxNotification.Status.FAILED if final else SandboxNotification.Status.PENDING,
    )
    return None if final else attempts


# --- OAuth (channel login) --------------------------------------------------------------------


def issue_oauth_code(*, app_id: str, user: SandboxUser) -> str:
    code = secrets.token_hex(16)
    SandboxOAuthCode.objects.create(code=code, app_id=app_id, user=user)
    return code


def _oauth_token(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    if params.get("grant_type") != "authorization_code":
        raise GatewayError("40002", "isv.grant-type-invalid", "不支持的授权类型")
    with transaction.atomic():
        code = (
            SandboxOAuthCode.objects.select_for_update()
            .select_related("user")
            .filter(code=params.get("code", ""), app_id=params["app_id"])
            .first()
        )
        if code is None or code.used_at is not None:
            raise GatewayError("40002", "isv.code-invalid", "授权码无效或已使用")
        if clock.now() - code.created_at > dt.timedelta(minutes=5):
            raise GatewayError("40002", "isv.code-expired", "授权码已过期")
        code.used_at = clock.now()
        code.save(update_fields=["used_at"])
    return (
        {
            "user_id": code.user.user_id,
            "access_token": "authusrB" + secrets.token_hex(16),
            "expires_in": 1296000,
            "refresh_token": "authusrB" + secrets.token_hex(16),
            "re_expires_in": 2592000,
            "auth_start": _time(clock.now()),
        },
        False,
    )


# --- admittance -------------------------------------------------------------------------------


def _admittance_score(biz: dict) -> int:
    try:
        score = int(biz.get("admittance_score"))
    except (TypeError, ValueError):
        raise GatewayError("40004", "INVALID_PARAMETER", "admittance_score 应为整数") from None
    if not 350 <= score <= 950:
        raise GatewayError("40004", "INVALID_PARAMETER", "admittance_score 应在 350–950")
    return score


def _admittance_initialize(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    transaction_id = str(biz.get("transaction_id") or "")
    if not transaction_id or len(transaction_id) > 64:
        raise GatewayError("40004", "INVALID_PARAMETER", "transaction_id 必填且不超过 64 位")
    score = _admittance_score(biz)
    user = None
    if biz.get("cert_type") == "ALIPAY_USER_ID":
        user = SandboxUser.objects.filter(user_id=str(biz.get("cert_no") or "")).first()
    try:
        with transaction.atomic():
            auth = SandboxAuthorization.objects.create(
                biz_no=_new_no("ZM"),
                app_id=params["app_id"],
                transaction_id=transaction_id,
                admittance_score=score,
                user=user,
                notify_url=params.get("notify_url", ""),
            )
    except IntegrityError:  # the same transaction_id: the same authorization (idempotent)
        auth = SandboxAuthorization.objects.get(
            app_id=params["app_id"], transaction_id=transaction_id
        )
    return {"biz_no": auth.biz_no, "transaction_id": auth.transaction_id}, False


def _admittance_query(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    lookup = {"app_id": params["app_id"]}
    if biz.get("biz_no"):
        lookup["biz_no"] = str(biz["biz_no"])
    else:
        lookup["transaction_id"] = str(biz.get("transaction_id") or "")
    auth = SandboxAuthorization.objects.select_related("user").filter(**lookup).first()
    if auth is None:
        raise GatewayError("40004", "AUTHORIZATION_NOT_EXIST", "授权不存在")
    return {
        "biz_no": auth.biz_no,
        "transaction_id": auth.transaction_id,
        "state": auth.state,
        "is_admittance": auth.is_admittance,
        "user_id": auth.user.user_id if auth.user else "",
    }, False


def _score_brief(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    if biz.get("cert_type") != "ALIPAY_USER_ID":
        raise GatewayError("40004", "INVALID_PARAMETER", "沙箱只支持 ALIPAY_USER_ID")
    if not biz.get("transaction_id"):
        raise GatewayError("40004", "INVALID_PARAMETER", "transaction_id 必填")
    score = _admittance_score(biz)
    user = SandboxUser.objects.filter(user_id=str(biz.get("cert_no") or "")).first()
    if user is None:
        raise GatewayError("40004", "USER_NOT_EXIST", "用户不存在")
    return {
        "biz_no": _new_no("ZMB"),
        "is_admittance": "Y" if user.score >= score else "N",
    }, False


def authorization_for_page(params: Mapping[str, str], biz: dict) -> SandboxAuthorization:
    auth = (
        SandboxAuthorization.objects.select_related("user")
        .filter(app_id=params["app_id"], biz_no=str(biz.get("biz_no") or ""))
        .first()
    )
    if auth is None:
        raise GatewayError("40004", "AUTHORIZATION_NOT_EXIST", "授权不存在")
    return auth


def decide_admittance(
    *,
    params: Mapping[str, str],
    biz: dict,
    approve: bool,
    score: int,
    login: str,
    password: str = "",
) -> SandboxAuthorization:
    """The test user approved or denied on the confirm page: decide, notify (once per decision)."""
    with transaction.atomic():
        auth = authorization_for_page(params, biz)
        auth = SandboxAuthorization.objects.select_for_update().get(pk=auth.pk)
        if auth.state == "DONE":
            return auth  # a second submit changes nothing and notifies nothing
        user = auth.user or login_user(
            login or f"sandbox-{auth.biz_no[-8:]}", password, score=score
        )
        if user.score != score:
            user.score = score
            user.save(update_fields=["score"])
        auth.user = user
        auth.score = score
        auth.is_admittance = "Y" if approve and score >= auth.admittance_score else "N"
        auth.state = "DONE"
        auth.decided_at = clock.now()
        auth.save()
        queue_notification(
            url=auth.notify_url or params.get("notify_url", ""),
            notify_type="zhima_credit_admittance",
            app_id=auth.app_id,
            fields={
                "transaction_id": auth.transaction_id,
                "biz_no": auth.biz_no,
                "is_admittance": auth.is_admittance,
                "user_id": user.user_id,
            },
            user=user,
        )
    return auth


def return_url_with(url: str, app_id: str, fields: Mapping[str, str]) -> str:
    """The merchant's return URL with signed (V1) parameters, as Alipay's page APIs do."""
    if not url:
        return ""
    params = {
        "app_id": app_id,
        "charset": "utf-8",
        "timestamp": _time(clock.now()),
        "sign_type": "RSA2",
        **fields,
    }
    params["sign"] = crypto.alipay_sign_notification(gateway_private_key(), params)
    joiner = "&" if urlsplit(url).query else "?"
    return f"{url}{joiner}{urlencode(params)}"


# --- rent orders ------------------------------------------------------------------------------


def _order_content(order: SandboxOrder) -> dict[str, str]:
    return {
        "order_no": order.order_no,
        "out_order_no": order.out_order_no,
        "goods_name": order.goods_name,
        "borrow_time": _time(order.borrow_time),
        "expiry_time": _time(order.expiry_time),
        "restore_time": _time(order.restore_time),
        "user_id": order.user.user_id if order.user else "",
        "admit_state": order.admit_state,
        "use_state": order.use_state,
        "pay_amount_type": order.pay_amount_type,
        "pay_amount": fen_to_yuan(order.pay_amount_fen) if order.pay_amount_type else "",
        "pay_status": order.pay_status,
        "pay_time": _time(order.pay_time),
        "alipay_fund_order_no": order.fund_order_no,
    }


def _notify_order(order: SandboxOrder) -> None:
    queue_notification(
        url=order.notify_url,
        notify_type="zm_rent_order",
        app_id=order.app_id,
        fields={
            k: v
            for k, v in _order_content(order).items()
            if k
            in (
                "order_no",
                "out_order_no",
                "user_id",
                "admit_state",
                "use_state",
                "pay_amount_type",
                "pay_amount",
                "pay_status",
                "expiry_time",
            )
        },
        user=order.user,
    )


def _create_order(
    params: Mapping[str, str], biz: dict, *, user: SandboxUser | None
) -> tuple[SandboxOrder, bool]:
    """Create or find (by out_order_no) a rent order; returns (order, created)."""
    out_order_no = str(biz.get("out_order_no") or "")
    if not out_order_no or len(out_order_no) > 64:
        raise GatewayError("40004", "INVALID_PARAMETER", "out_order_no 必填且不超过 64 位")
    existing = row_where(
        SandboxOrder, "app_id = %s AND out_order_no = %s", [params["app_id"], out_order_no]
    )
    if existing is not None:
        return existing, False
    if biz.get("product_code") != "w1010100000000002858":
        raise GatewayError("40004", "PRODUCT_CODE_INVALID", "产品码错误")
    deposit = _amount_fen(biz.get("deposit_amount"), "deposit_amount")
    borrow = _parse_time(biz.get("borrow_time") or _time(clock.now()), "borrow_time")
    expiry = _parse_time(biz.get("expiry_time"), "expiry_time")
    if expiry <= borrow:
        raise GatewayError("40004", "EXPIRY_TIME_INVALID", "expiry_time 应晚于 borrow_time")
    goods = str(biz.get("goods_name") or "")
    if not goods or len(goods) > 14:
        raise GatewayError("40004", "INVALID_PARAMETER", "goods_name 必填且不超过 14 字")
    try:
        with transaction.atomic():
            order = SandboxOrder.objects.create(
                order_no=_new_no("ZMO"),
                app_id=params["app_id"],
                out_order_no=out_order_no,
                user=user,
                goods_name=goods,
                deposit_fen=deposit,
                borrow_time=borrow,
                expiry_time=expiry,
                notify_url=params.get("notify_url", ""),
            )
    except IntegrityError:
        return SandboxOrder.objects.get(app_id=params["app_id"], out_order_no=out_order_no), False
    return order, True


def _admit(order: SandboxOrder, user: SandboxUser, *, approve: bool = True) -> None:
    order.user = user
    order.admit_state = "Y" if approve and user.score >= RENT_MIN_SCORE else "N"
    order.use_state = "borrow" if order.admit_state == "Y" else ""
    order.save(update_fields=["user", "admit_state", "use_state", "updated_at"])
    _notify_order(order)


def _rent_create(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    user = row_where(SandboxUser, "user_id = %s", [str(biz.get("user_id") or "")])
    if user is None:
        raise GatewayError("40004", "USER_NOT_EXIST", "用户不存在或未授权")
    with transaction.atomic():
        order, created = _create_order(params, biz, user=user)
        if created:
            _admit(order, user)
    # A user with the "timeout" fault gets the answer to their first create too late.
    return {
        "order_no": order.order_no,
        "out_order_no": order.out_order_no,
        "admit_state": order.admit_state,
        "user_id": user.user_id,
    }, created and user.has_fault("timeout")


def open_order_page(params: Mapping[str, str], biz: dict) -> SandboxOrder:
    with transaction.atomic():
        order, _created = _create_order(params, biz, user=None)
    return order


def confirm_order(
    *, params: Mapping[str, str], biz: dict, approve: bool, login: str, password: str = ""
) -> SandboxOrder:
    with transaction.atomic():
        order = open_order_page(params, biz)
        order = SandboxOrder.objects.select_for_update().get(pk=order.pk)
        if order.admit_state:
            return order
        user = login_user(login or f"sandbox-{order.order_no[-8:]}", password)
        _admit(order, user, approve=approve)
    return order


def _order_for(params: Mapping[str, str], biz: dict, *, lock: bool = False) -> SandboxOrder:
    queryset = SandboxOrder.objects.select_related("user").filter(app_id=params["app_id"])
    if lock:
        queryset = queryset.select_for_update(of=("self",))
    if biz.get("order_no"):
        order = queryset.filter(order_no=str(biz["order_no"])).first()
    else:
        order = queryset.filter(out_order_no=str(biz.get("out_order_no") or "")).first()
    if order is None:
        raise GatewayError("40004", "ORDER_NOT_EXIST", "订单不存在")
    return order


def _rent_query(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    order = _order_for(params, biz)
    return _order_content(order), False


def _rent_modify(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    with transaction.atomic():
        order = _order_for(params, biz, lock=True)
        if order.use_state != "borrow":
            raise GatewayError("40004", "ORDER_STATE_INVALID", "订单不在借用中")
        if biz.get("expiry_time"):
            expiry = _parse_time(biz["expiry_time"], "expiry_time")
            if expiry < order.expiry_time:
                raise GatewayError("40004", "EXPIRY_TIME_INVALID", "归还时间不能提前")
            order.expiry_time = expiry
        if biz.get("borrow_time"):
            order.borrow_time = _parse_time(biz["borrow_time"], "borrow_time")
        order.save()
    return {"order_no": order.order_no}, False


def _rent_complete(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    with transaction.atomic():
        order = _order_for(params, biz, lock=True)
        retry = order.use_state == "restore" and order.pay_status == "PAY_FAILED"
        if order.use_state == "restore" and not retry:
            return {
                "order_no": order.order_no,
                "alipay_fund_order_no": order.fund_order_no,
                "user_id": order.user.user_id if order.user else "",
            }, False  # completed before: the same answer, nothing charged twice
        if order.use_state != "borrow" and not retry:
            raise GatewayError("40004", "ORDER_STATE_INVALID", "订单不在借用中")
        if not retry:
            restore = _parse_time(biz.get("restore_time"), "restore_time")
            if not order.borrow_time < restore < clock.now() + dt.timedelta(hours=24):
                raise GatewayError(
                    "40004", "RESTORE_TIME_INVALID", "归还时间应在借出之后、24 小时之内"
                )
            pay_type = str(biz.get("pay_amount_type") or "")
            if pay_type not in ("RENT", "DAMAGE"):
                raise GatewayError(
                    "40004", "INVALID_PARAMETER", "pay_amount_type 应为 RENT 或 DAMAGE"
                )
            amount = _amount_fen(biz.get("pay_amount", "0"), "pay_amount")
            if pay_type == "DAMAGE" and amount > order.deposit_fen:
                raise GatewayError("40004", "PAY_AMOUNT_EXCEED", "赔偿金额不能超过押金")
            if pay_type == "RENT" and amount != 0:
                raise GatewayError("40004", "PAY_AMOUNT_INVALID", "免费借阅的租金应为 0.00")
            order.use_state = "restore"
            order.restore_time = restore
            order.restore_shop_name = str(biz.get("restore_shop_name") or "")[:60]
            order.pay_amount_type = pay_type
            order.pay_amount_fen = amount
        order.deduction_attempts += 1
        if order.pay_amount_fen == 0:
            order.pay_status = "PAY_SUCCESS"
        else:
            first_for_user = order.deduction_attempts == 1 and bool(
                order.user and order.user.has_fault("failed_deduction")
            )
            failed = first_for_user or take_fault(
                SandboxFault.Kind.FAILED_DEDUCTION, method="zhima.merchant.order.rent.complete"
            )
            order.pay_status = "PAY_FAILED" if failed else "PAY_SUCCESS"
        if order.pay_status == "PAY_SUCCESS":
            order.pay_time = clock.now()
            order.fund_order_no = _new_no("2026")
        order.save()
        _notify_order(order)
    return {
        "order_no": order.order_no,
        "alipay_fund_order_no": order.fund_order_no,
        "user_id": order.user.user_id if order.user else "",
    }, False


def _rent_cancel(params: Mapping[str, str], biz: dict) -> tuple[dict, bool]:
    with transaction.atomic():
        order = _order_for(params, biz, lock=True)
        if order.use_state == "restore":
            raise GatewayError("40004", "ORDER_IS_RESTORED", "订单已归还，不能撤销")
        if order.use_state != "cancel":
            order.use_state = "cancel"
            order.save()
            _notify_order(order)
    return {"order_no": order.order_no}, False


API_METHODS = {
    "alipay.system.oauth.token": _oauth_token,
    "zhima.credit.admittance.initialize": _admittance_initialize,
    "zhima.credit.admittance.query": _admittance_query,
    "zhima.credit.score.brief.get": _score_brief,
    "zhima.merchant.order.rent.create": _rent_create,
    "zhima.merchant.order.rent.query": _rent_query,
    "zhima.merchant.order.rent.modify": _rent_modify,
    "zhima.merchant.order.rent.complete": _rent_complete,
    "zhima.merchant.order.rent.cancel": _rent_cancel,
}
