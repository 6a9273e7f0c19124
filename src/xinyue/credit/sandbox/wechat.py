"""A WeChat Pay Score APIv3 gateway of the same kind as the Zhima sandbox, kept in memory.

A plain WSGI application (no Django, no database) that tests serve on a loopback port:

* every request's ``Authorization: WECHATPAY2-SHA256-RSA2048 …`` is verified against the
  merchant's public key selected by ``serial_no``, with a five-minute timestamp window, over
  ``METHOD\\nURL\\nTIMESTAMP\\nNONCE\\nBODY\\n`` (failures: 401 ``SIGN_ERROR``);
* every answer is signed with the platform key (``Wechatpay-*`` headers);
* callbacks are JSON envelopes whose ``resource`` is AES-256-GCM under the APIv3 key, signed
  like answers, POSTed to the ``notify_url`` given at creation;
* state: service authorizations (``/v3/payscore/permissions``) and service orders
  (``CREATED → DOING → DONE | REVOKED``, collection ``USER_PAYING → USER_PAID``);
* a confirm page (``/payscore/confirm?token=``) takes ``decision=approve|deny`` and ``score``;
* faults: ``timeout`` (answer late), ``system_error`` (500), ``bad_signature``,
  ``duplicate_callback``, ``failed_deduction``, each for a number of uses.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import Any
from urllib.parse import parse_qs, parse_qsl, unquote
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import requests

from xinyue.credit import crypto

JSONDict = dict[str, Any]


@dataclass
class Callback:
    url: str
    body: str
    headers: dict[str, str]
    status: int | None = None


@dataclass
class WechatPayScoreSandbox:
    mchid: str
    appid: str
    service_id: str
    merchant_public_key: crypto.PublicKey
    merchant_serial: str
    platform_private_key: crypto.PrivateKey
    platform_serial: str
    api_v3_key: str
    min_score: int = 550
    timeout_delay: float = 1.0
    faults: dict[str, int] = field(default_factory=dict)
    permissions: dict[str, JSONDict] = field(default_factory=dict)
    orders: dict[str, JSONDict] = field(default_factory=dict)
    tokens: dict[str, tuple[str, str]] = field(default_factory=dict)
    callbacks: list[Callback] = field(default_factory=list)
    scores: dict[str, int] = field(default_factory=dict)
    oauth_codes: dict[str, str] = field(default_factory=dict)
    requests_seen: int = 0
    lock: threading.RLock = field(default_factory=threading.RLock)

    # --- faults ---------------------------------------------------------------------------

    def inject(self, kind: str, times: int = 1) -> None:
        with self.lock:
            self.faults[kind] = self.faults.get(kind, 0) + times

    def _take(self, kind: str) -> bool:
        with self.lock:
            if self.faults.get(kind, 0) > 0:
                self.faults[kind] -= 1
                return True
        return False

    # --- signing --------------------------------------------------------------------------

    def signed_headers(self, body: str, *, key: crypto.PrivateKey | None = None) -> dict[str, str]:
        timestamp = str(int(time.time()))
        nonce = crypto.new_nonce()
        signature = crypto.rsa2_sign(
            key or self.platform_private_key,
            crypto.wechatpay_response_message(timestamp, nonce, body),
        )
        return {
            "Wechatpay-Timestamp": timestamp,
            "Wechatpay-Nonce": nonce,
            "Wechatpay-Signature": signature,
            "Wechatpay-Serial": self.platform_serial,
            "Wechatpay-Signature-Type": crypto.WECHATPAY_SCHEMA,
        }

    def _verify(self, environ: dict, body: str) -> str | None:
        """None when the request's signature holds, else the reason."""
        params = crypto.parse_wechatpay_authorization(environ.get("HTTP_AUTHORIZATION", ""))
        if params is None:
            return "missing or malformed Authorization"
        if params["mchid"] != self.mchid:
            return "mchid does not match"
        if params["serial_no"] != self.merchant_serial:
            return "unknown merchant certificate serial"
        try:
            skew = abs(time.time() - int(params["timestamp"]))
        except ValueError:
            return "bad timestamp"
        if skew > 300:
            return "timestamp outside the five-minute window"
        url = environ.get("PATH_INFO", "")
        if environ.get("QUERY_STRING"):
            url += "?" + environ["QUERY_STRING"]
        message = crypto.wechatpay_request_message(
            environ["REQUEST_METHOD"], url, params["timestamp"], params["nonce_str"], body
        )
        if not crypto.rsa2_verify(self.merchant_public_key, message, params["signature"]):
            return "signature does not verify"
        return None

    # --- WSGI -----------------------------------------------------------------------------

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        body = raw.decode("utf-8")
        path = environ.get("PATH_INFO", "")
        method = environ["REQUEST_METHOD"]
        with self.lock:
            self.requests_seen += 1
        if path.startswith("/payscore/confirm"):
            return self._confirm_page(environ, body, start_response)
        if path == "/connect/oauth2/authorize":
            return self._oauth_page(environ, body, start_response)
        if path == "/sns/oauth2/access_token":
            return self._oauth_token(environ, start_response)
        if not path.startswith("/v3/"):
            return self._plain(start_response, "404 Not Found", "not found")
        reason = self._verify(environ, body)
        if reason is not None:
            return self._json(start_response, 401, {"code": "SIGN_ERROR", "message": reason})
        if self._take("system_error"):
            return self._json(start_response, 500, {"code": "SYSTEM_ERROR", "message": "系统错误"})
        try:
            data = json.loads(body) if body else {}
        except ValueError:
            return self._json(start_response, 400, {"code": "PARAM_ERROR", "message": "bad JSON"})
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        status, answer = self._route(method, path, data, query)
        if self._take("timeout"):
            time.sleep(self.timeout_delay)  # the work is done; the answer comes too late
        return self._json(start_response, status, answer)

    def _route(self, method: str, path: str, data: JSONDict, query: dict) -> tuple[int, JSONDict]:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if method == "POST" and path == "/v3/payscore/permissions":
            return self._open_permission(data)
        if method == "GET" and parts[:4] == ["v3", "payscore", "permissions", "authorization-code"]:
            return self._permission_by_code(parts[4], query)
        if method == "GET" and parts[:4] == ["v3", "payscore", "permissions", "openid"]:
            return self._permission_by_openid(parts[4], query)
        if path == "/v3/payscore/serviceorder":
            if method == "POST":
                return self._create_order(data)
            return self._query_order(query)
        if method == "POST" and parts[:3] == ["v3", "payscore", "serviceorder"] and len(parts) == 5:
            return self._order_action(parts[3], parts[4], data)
        return 404, {"code": "NOT_FOUND", "message": "unknown path"}

    def _json(self, start_response: Callable, status: int, payload: JSONDict) -> list[bytes]:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")) if payload else ""
        key = crypto.generate_private_key() if self._take("bad_signature") else None
        headers = [
            ("Content-Type", "application/json"),
            *self.signed_headers(body, key=key).items(),
        ]
        reason = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized"}
        start_response(f"{status} {reason.get(status, 'Status')}", headers)
        return [body.encode("utf-8")]

    @staticmethod
    def _plain(
        start_response: Callable, status: str, text: str, ctype: str = "text/plain"
    ) -> list[bytes]:
        start_response(status, [("Content-Type", f"{ctype}; charset=utf-8")])
        return [text.encode("utf-8")]

    # --- service authorization ------------------------------------------------------------

    def _open_permission(self, data: JSONDict) -> tuple[int, JSONDict]:
        code = str(data.get("authorization_code") or "")
        if data.get("service_id") != self.service_id or data.get("appid") != self.appid or not code:
            return 400, {"code": "PARAM_ERROR", "message": "service_id/appid/authorization_code"}
        with self.lock:
            permission = self.permissions.get(code)
            if permission is None:
                token = "TOKEN" + secrets.token_hex(12)
                permission = {
                    "authorization_code": code,
                    "token": token,
                    "state": "UNBINDUSER",
                    "openid": "",
                    "notify_url": data.get("notify_url", ""),
                }
                self.permissions[code] = permission
                self.tokens[token] = ("permission", code)
        return 200, {"apply_permissions_token": permission["token"]}

    def _permission_by_code(self, code: str, query: dict) -> tuple[int, JSONDict]:
        permission = self.permissions.get(code)
        if permission is None or query.get("service_id") != self.service_id:
            return 404, {"code": "NOT_FOUND", "message": "authorization not found"}
        return 200, {
            "service_id": self.service_id,
            "appid": self.appid,
            "mchid": self.mchid,
            "authorization_code": code,
            "authorization_state": permission["state"],
            "openid": permission["openid"],
        }

    def _permission_by_openid(self, openid: str, query: dict) -> tuple[int, JSONDict]:
        if query.get("service_id") != self.service_id or query.get("appid") != self.appid:
            return 400, {"code": "PARAM_ERROR", "message": "service_id/appid"}
        score = self.scores.get(openid)
        if score is None:
            return 200, {"authorization_state": "UNBINDUSER", "openid": openid}
        state = "AVAILABLE" if score >= self.min_score else "UNAVAILABLE"
        return 200, {"authorization_state": state, "openid": openid}

    # --- service orders -------------------------------------------------------------------

    def _order_view(self, order: JSONDict) -> JSONDict:
        return {k: v for k, v in order.items() if not k.startswith("_")}

    def _create_order(self, data: JSONDict) -> tuple[int, JSONDict]:
        out_order_no = str(data.get("out_order_no") or "")
        if data.get("service_id") != self.service_id or data.get("appid") != self.appid:
            return 400, {"code": "PARAM_ERROR", "message": "service_id/appid"}
        if not out_order_no or len(data.get("service_introduction", "")) > 20:
            return 400, {"code": "PARAM_ERROR", "message": "out_order_no/service_introduction"}
        with self.lock:
            existing = self.orders.get(out_order_no)
            if existing is not None:  # the same out_order_no: the same order
                return 200, self._order_view(existing)
            openid = str(data.get("openid") or "")
            confirmed = not data.get("need_user_confirm", True)
            if confirmed and self.scores.get(openid, 0) < self.min_score:
                return 403, {"code": "RULE_LIMIT", "message": "用户不满足服务条件"}
            order = {
                "out_order_no": out_order_no,
                "service_id": self.service_id,
                "appid": self.appid,
                "mchid": self.mchid,
                "service_introduction": data.get("service_introduction", ""),
                "state": "DOING" if confirmed else "CREATED",
                "state_description": "USER_CONFIRM" if confirmed else "",
                "order_id": "ORDER" + secrets.token_hex(10),
                "openid": openid,
                "time_range": data.get("time_range", {}),
                "risk_fund": data.get("risk_fund", {}),
                "total_amount": 0,
                "need_collection": False,
                "collection": {},
                "_notify_url": data.get("notify_url", ""),
            }
            if not confirmed:
                package = "PKG" + secrets.token_hex(12)
                order["package"] = package
                self.tokens[package] = ("order", out_order_no)
            self.orders[out_order_no] = order
        return 200, self._order_view(order)

    def _query_order(self, query: dict) -> tuple[int, JSONDict]:
        order = self.orders.get(query.get("out_order_no", ""))
        if order is None or query.get("service_id") != self.service_id:
            return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
        return 200, self._order_view(order)

    def _order_action(self, out_order_no: str, action: str, data: JSONDict) -> tuple[int, JSONDict]:
        with self.lock:
            order = self.orders.get(out_order_no)
            if order is None:
                return 404, {"code": "ORDER_NOT_EXIST", "message": "订单不存在"}
            if action == "cancel":
                if (
                    order["state"] not in ("CREATED", "DOING")
                    or order.get("state_description") == "MCH_COMPLETE"
                ):
                    return 400, {"code": "INVALID_ORDER_STATE", "message": "订单状态不允许撤销"}
                order["state"] = "REVOKED"
                return 200, {"out_order_no": out_order_no, "order_id": order["order_id"]}
            if action == "complete":
                if order["state"] != "DOING":
                    return 400, {"code": "INVALID_ORDER_STATE", "message": "订单不在服务中"}
                if order.get("state_description") == "MCH_COMPLETE":
                    return 200, self._order_view(order)  # completed before: no second charge
                total = int(data.get("total_amount", -1))
                payments = sum(int(p.get("amount", 0)) for p in data.get("post_payments", []))
                if total < 0 or total != payments:
                    return 400, {"code": "PARAM_ERROR", "message": "total_amount ≠ Σ post_payments"}
                if total > int((order.get("risk_fund") or {}).get("amount", 0)):
                    return 400, {"code": "PARAM_ERROR", "message": "金额超过风险金额"}
                order["state_description"] = "MCH_COMPLETE"
                order["total_amount"] = total
                order["need_collection"] = total > 0
                if total == 0:
                    order["state"] = "DONE"
                    order["collection"] = {
                        "state": "USER_PAID",
                        "total_amount": 0,
                        "paid_amount": 0,
                    }
                else:
                    self._collect(order)
                return 200, self._order_view(order)
            if action == "pay":
                if order.get("collection", {}).get("state") != "PAY_FAILED":
                    return 400, {"code": "INVALID_ORDER_STATE", "message": "无需重新扣款"}
                self._collect(order)
                return 204, {}
        return 404, {"code": "NOT_FOUND", "message": "unknown action"}

    def _collect(self, order: JSONDict) -> None:
        total = order["total_amount"]
        if self._take("failed_deduction"):
            order["collection"] = {"state": "PAY_FAILED", "total_amount": total, "paid_amount": 0}
            return
        order["state"] = "DONE"
        order["collection"] = {"state": "USER_PAID", "total_amount": total, "paid_amount": total}
        self._callback(order["_notify_url"], "PAYSCORE.USER_PAID", self._order_view(order))

    # --- pages ----------------------------------------------------------------------------

    def _confirm_page(self, environ: dict, body: str, start_response: Callable) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        target = self.tokens.get(query.get("token", ""))
        if target is None:
            return self._plain(start_response, "404 Not Found", "unknown token")
        if environ["REQUEST_METHOD"] != "POST":
            form = (
                '<form method="post"><input name="score" value="600">'
                '<button name="decision" value="approve">同意</button>'
                '<button name="decision" value="deny">拒绝</button></form>'
            )
            return self._plain(start_response, "200 OK", form, "text/html")
        form = dict(parse_qsl(body))
        approve = form.get("decision") == "approve"
        score = int(form.get("score") or 600)
        openid = form.get("openid") or "o" + secrets.token_hex(12)
        kind, key = target
        with self.lock:
            if kind == "permission":
                permission = self.permissions[key]
                if permission["state"] == "UNBINDUSER":
                    self.scores[openid] = score
                    opened = approve and score >= self.min_score
                    permission["state"] = "AVAILABLE" if opened else "UNAVAILABLE"
                    permission["openid"] = openid
                    if opened:
                        self._callback(
                            permission["notify_url"],
                            "PAYSCORE.USER_OPEN_SERVICE",
                            {
                                "appid": self.appid,
                                "mchid": self.mchid,
                                "service_id": self.service_id,
                                "openid": openid,
                                "user_service_status": "USER_OPEN_SERVICE",
                                "openorclose_time": time.strftime("%Y%m%d%H%M%S"),
                                "authorization_code": key,
                            },
                        )
            else:
                order = self.orders[key]
                if order["state"] == "CREATED":
                    if approve and self.scores.get(openid, score) >= self.min_score:
                        order["state"], order["state_description"] = "DOING", "USER_CONFIRM"
                        order["openid"] = openid
                        self._callback(
                            order["_notify_url"], "PAYSCORE.USER_CONFIRM", self._order_view(order)
                        )
                    else:
                        order["state"] = "EXPIRED"
        return_url = query.get("return_url", "")
        if return_url:
            start_response("302 Found", [("Location", return_url)])
            return [b""]
        return self._plain(start_response, "200 OK", "done")

    def _oauth_page(self, environ: dict, body: str, start_response: Callable) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        if environ["REQUEST_METHOD"] != "POST":
            return self._plain(
                start_response,
                "200 OK",
                '<form method="post"><input name="openid"><button>登录</button></form>',
                "text/html",
            )
        openid = dict(parse_qsl(body)).get("openid") or "o" + secrets.token_hex(12)
        code = secrets.token_hex(12)
        with self.lock:
            self.oauth_codes[code] = openid
        joiner = "&" if "?" in query.get("redirect_uri", "") else "?"
        location = (
            f"{query.get('redirect_uri', '')}{joiner}code={code}&state={query.get('state', '')}"
        )
        start_response("302 Found", [("Location", location)])
        return [b""]

    def _oauth_token(self, environ: dict, start_response: Callable) -> list[bytes]:
        query = {k: v[0] for k, v in parse_qs(environ.get("QUERY_STRING", "")).items()}
        with self.lock:
            openid = self.oauth_codes.pop(query.get("code", ""), None)
        if openid is None or query.get("appid") != self.appid:
            payload = {"errcode": 40029, "errmsg": "invalid code"}
        else:
            payload = {
                "access_token": secrets.token_hex(16),
                "expires_in": 7200,
                "openid": openid,
                "scope": "snsapi_base",
            }
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(payload).encode()]

    # --- callbacks ------------------------------------------------------------------------

    def callback_body(self, event_type: str, resource: JSONDict, *, event_id: str = "") -> str:
        nonce = secrets.token_hex(6)  # 12 ASCII characters
        associated = "payscore"
        ciphertext = crypto.aes_gcm_encrypt(
            self.api_v3_key, nonce, associated, json.dumps(resource, ensure_ascii=False).encode()
        )
        envelope = {
            "id": event_id or secrets.token_hex(16),
            "create_time": time.strftime("%Y-%m-%dT%H:%M:%S+08:00"),
            "resource_type": "encrypt-resource",
            "event_type": event_type,
            "summary": event_type,
            "resource": {
                "original_type": "payscore",
                "algorithm": "AEAD_AES_256_GCM",
                "ciphertext": ciphertext,
                "associated_data": associated,
                "nonce": nonce,
            },
        }
        return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))

    def _callback(self, url: str, event_type: str, resource: JSONDict) -> None:
        if not url:
            return
        body = self.callback_body(event_type, resource)
        copies = 2 if self._take("duplicate_callback") else 1
        for _ in range(copies):
            callback = Callback(url=url, body=body, headers=self.signed_headers(body))
            self.callbacks.append(callback)
            self.deliver(callback)

    def deliver(self, callback: Callback) -> None:
        try:
            response = requests.post(
                callback.url,
                data=callback.body.encode("utf-8"),
                headers={"Content-Type": "application/json", **callback.headers},
                timeout=10,
            )
            callback.status = response.status_code
        except requests.RequestException:
            callback.status = None


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        return


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


def serve_in_thread(app: Callable, host: str = "127.0.0.1") -> tuple[WSGIServer, str]:
    """Serve ``app`` on a free loopback port in a daemon thread; returns (server, base URL)."""
    server = make_server(host, 0, app, server_class=_ThreadingServer, handler_class=_QuietHandler)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return server, f"http://{host}:{server.server_port}"
