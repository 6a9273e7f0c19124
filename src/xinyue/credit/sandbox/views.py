"""The sandbox gateway's HTTP face: ``gateway.do`` (API + page methods), the OAuth login page,
and a JSON control endpoint for tests and demos. Mounted at ``/sandbox/zhima/`` in embedded mode
and served alone by ``xinyue sandbox-gateway``. It plays another site: no platform session, no
platform CSRF token (its forms post to itself, as Alipay's pages do).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.csrf import csrf_exempt

from xinyue.core.money import fen_to_yuan
from xinyue.credit import conf
from xinyue.credit.providers import http
from xinyue.credit.sandbox import gateway
from xinyue.credit.sandbox.models import SandboxFault, SandboxNotification, SandboxUser

MAX_BODY = 64 * 1024


def sandbox_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @csrf_exempt
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not settings.CREDIT_SANDBOX_ENABLED:
            raise Http404("the credit sandbox is switched off")
        if len(request.body) > MAX_BODY:
            return HttpResponse("request too large", status=413, content_type="text/plain")
        return view(request, *args, **kwargs)

    return wrapper


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def _form_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    """The form fields as sent (repeats kept, so that they can be refused)."""
    if request.content_type == "multipart/form-data":
        return [(k, v) for k, values in request.POST.lists() for v in values]
    return _pairs(request.body.decode("utf-8"))


def _page_error(request: HttpRequest, error: gateway.GatewayError) -> HttpResponse:
    return render(request, "credit/sandbox/error.html", {"error": error.content()}, status=400)


@sandbox_view
def gateway_do(request: HttpRequest) -> HttpResponse:
    """``/gateway.do``: API calls (form POST) and page methods (GET shows, POST decides)."""
    query = _pairs(request.META.get("QUERY_STRING", ""))
    query_method = dict(query).get("method", "")
    if query_method in gateway.PAGE_METHODS and (
        request.method == "GET" or "decision" in request.POST
    ):
        return _page(request, query)
    if request.method != "POST":
        return HttpResponse("gateway.do expects POST", status=405, content_type="text/plain")
    try:
        params = gateway.parse_params(query, _form_pairs(request))
    except (gateway.GatewayError, UnicodeDecodeError) as exc:
        error = exc if isinstance(exc, gateway.GatewayError) else gateway.GatewayError("40002")
        return HttpResponse(gateway.error_answer(error), content_type="application/json")
    answer = gateway.handle_api(params)
    if answer.delay_seconds:
        # Fault: the work is done and committed, the answer late. A caller in this process
        # (no socket) says how long it waits; sleeping longer would only hold its thread.
        delay = answer.delay_seconds
        limit = request.headers.get(http.WAIT_LIMIT_HEADER, "")
        if limit.replace(".", "", 1).isdigit():
            delay = min(delay, float(limit) + 0.1)
        time.sleep(delay)
    return HttpResponse(answer.body, content_type="application/json;charset=utf-8")


def _page(request: HttpRequest, query: list[tuple[str, str]]) -> HttpResponse:
    try:
        params = gateway._single_values(query)
        biz = gateway.verify_request(params, page=True)
    except gateway.GatewayError as exc:
        return _page_error(request, exc)
    method = params["method"]
    try:
        if method == "zhima.credit.admittance.confirm":
            return _admittance_page(request, params, biz)
        return _order_page(request, params, biz)
    except gateway.GatewayError as exc:
        return _page_error(request, exc)


def _score(request: HttpRequest) -> int | None:
    raw = (request.POST.get("score") or "").strip()
    if not raw:
        return gateway.DEFAULT_SCORE
    try:
        score = int(raw)
    except ValueError:
        return None
    return score if 350 <= score <= 950 else None


def _admittance_page(request: HttpRequest, params: dict, biz: dict) -> HttpResponse:
    auth = gateway.authorization_for_page(params, biz)
    if request.method == "POST":
        decision = request.POST.get("decision")
        score = _score(request)
        if decision not in ("approve", "deny") or score is None:
            return render(
                request,
                "credit/sandbox/confirm_admittance.html",
                {"auth": auth, "error": "decision 应为 approve 或 deny，score 为 350–950 的整数"},
                status=400,
            )
        auth = gateway.decide_admittance(
            params=params,
            biz=biz,
            approve=decision == "approve",
            score=score,
            login=request.POST.get("login", ""),
            password=request.POST.get("password", ""),
        )
        target = gateway.return_url_with(
            params.get("return_url", ""),
            auth.app_id,
            {
                "method": "zhima.credit.admittance.confirm.return",
                "transaction_id": auth.transaction_id,
                "biz_no": auth.biz_no,
                "is_admittance": auth.is_admittance,
            },
        )
        if target:
            return redirect(target)
        return render(request, "credit/sandbox/done.html", {"auth": auth})
    return render(request, "credit/sandbox/confirm_admittance.html", {"auth": auth})


def _order_page(request: HttpRequest, params: dict, biz: dict) -> HttpResponse:
    order = gateway.open_order_page(params, biz)
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision not in ("approve", "deny"):
            return render(
                request,
                "credit/sandbox/confirm_order.html",
                {
                    "order": order,
                    "deposit_yuan": fen_to_yuan(order.deposit_fen),
                    "error": "decision 应为 approve 或 deny",
                },
                status=400,
            )
        order = gateway.confirm_order(
            params=params,
            biz=biz,
            approve=decision == "approve",
            login=request.POST.get("login", ""),
            password=request.POST.get("password", ""),
        )
        target = gateway.return_url_with(
            params.get("return_url", "") or str(biz.get("invoke_return_url") or ""),
            order.app_id,
            {
                "method": "zhima.merchant.order.rent.create.return",
                "out_order_no": order.out_order_no,
                "order_no": order.order_no,
                "admit_state": order.admit_state,
            },
        )
        if target:
            return redirect(target)
        return render(request, "credit/sandbox/done.html", {"order": order})
    return render(
        request,
        "credit/sandbox/confirm_order.html",
        {"order": order, "deposit_yuan": fen_to_yuan(order.deposit_fen)},
    )


def _redirect_allowed(request: HttpRequest, uri: str) -> bool:
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return False
    allowed = {urlsplit(conf.public_base_url()).netloc, request.get_host()}
    allowed.update(settings.CREDIT_SANDBOX_REDIRECT_HOSTS)
    return parts.netloc in allowed


@sandbox_view
def oauth_authorize(request: HttpRequest) -> HttpResponse:
    """Alipay's ``publicAppAuthorize.htm``: pick or enter a test user, then back with a code."""
    app_id = request.GET.get("app_id", "")
    redirect_uri = request.GET.get("redirect_uri", "")
    state = request.GET.get("state", "")
    scope = request.GET.get("scope", "auth_base")
    if gateway.app_public_key(app_id) is None:
        return _page_error(
            request, gateway.GatewayError("40002", "isv.invalid-app-id", "无效的AppID参数")
        )
    if not _redirect_allowed(request, redirect_uri):
        return _page_error(
            request,
            gateway.GatewayError("40002", "isv.invalid-redirect-uri", "回调地址不在授权范围"),
        )
    error = ""
    if request.method == "POST":
        # A typed name wins over a listed one (radio buttons ``user``, text box ``login``).
        login = (request.POST.get("login") or "").strip() or (
            request.POST.get("user") or ""
        ).strip()
        if request.POST.get("decision") == "deny":
            joiner = "&" if urlsplit(redirect_uri).query else "?"
            return redirect(
                f"{redirect_uri}{joiner}{urlencode({'state': state, 'error': 'access_denied'})}"
            )
        if not login:
            error = "请选择或输入一个测试用户"
        else:
            try:
                user = gateway.login_user(login, request.POST.get("password") or "")
            except gateway.GatewayError as exc:
                error = exc.sub_msg
            else:
                code = gateway.issue_oauth_code(app_id=app_id, user=user)
                joiner = "&" if urlsplit(redirect_uri).query else "?"
                query = urlencode(
                    {"app_id": app_id, "scope": scope, "auth_code": code, "state": state}
                )
                return redirect(f"{redirect_uri}{joiner}{query}")
    users = gateway.free_users()
    return render(
        request,
        "credit/sandbox/oauth.html",
        {"users": users, "error": error, "app_id": app_id},
        status=400 if error else 200,
    )


# --- control endpoint (JSON) ------------------------------------------------------------------


def _json_body(request: HttpRequest) -> dict[str, Any]:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def operator_only(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Control endpoints change how the provider answers everyone: the platform's operator only,
    by page session or by a platform API key (``Authorization: Bearer xy_…``)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from xinyue.accounts.selectors import actor_for_user
        from xinyue.accounts.services import authenticate_api_key
        from xinyue.core.errors import PermissionDenied
        from xinyue.core.permissions import require_operator

        actor = None
        header = request.headers.get("Authorization", "")
        if header.startswith("Bearer "):
            actor = authenticate_api_key(header[7:].strip())
        elif getattr(request, "user", None) is not None and request.user.is_authenticated:
            actor = actor_for_user(request.user)
        if actor is None:
            message = "需要平台运营方的登录或 API 密钥"
            return JsonResponse(
                {"code": "unauthenticated", "message": message, "detail": {}}, status=401
            )
        try:
            require_operator(actor)
        except PermissionDenied as exc:
            return JsonResponse(exc.as_dict(), status=exc.http_status)
        return view(request, *args, **kwargs)

    return wrapper


def _user_json(user: SandboxUser) -> dict[str, Any]:
    return {
        "user_id": user.user_id,
        "login": user.login,
        "score": user.score,
        "faults": user.faults,
    }


KNOWN_USER_FAULTS = {"timeout", "duplicate_notify", "failed_deduction", "no_notify"}


@sandbox_view
@operator_only
def control_users(request: HttpRequest) -> HttpResponse:
    """``POST {"login", "score", "faults": [...], "password"?}``: create or update a test user."""
    if request.method == "GET":
        return JsonResponse({"users": [_user_json(u) for u in SandboxUser.objects.all()[:200]]})
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    data = _json_body(request)
    login = str(data.get("login") or "").strip()
    faults = data.get("faults") or []
    score = data.get("score", gateway.DEFAULT_SCORE)
    if (
        not login
        or not isinstance(faults, list)
        or not set(faults) <= KNOWN_USER_FAULTS
        or not isinstance(score, int)
        or not 350 <= score <= 950
    ):
        return JsonResponse(
            {"error": f"login required, score 350–950, faults ⊆ {sorted(KNOWN_USER_FAULTS)}"},
            status=400,
        )
    user = gateway.user_by_login(login, score=score)
    user.faults = faults
    user.save(update_fields=["faults"])
    if isinstance(data.get("password"), str):
        gateway.set_user_password(user, data["password"])
    return JsonResponse(_user_json(user), status=201)


@sandbox_view
@operator_only
def control_faults(request: HttpRequest) -> HttpResponse:
    """``POST {"kind", "method"?, "times"?}`` adds a fault; ``DELETE`` clears them all."""
    if request.method == "DELETE":
        count = SandboxFault.objects.count()
        SandboxFault.objects.all().delete()
        return JsonResponse({"cleared": count})
    if request.method == "GET":
        faults = list(SandboxFault.objects.values("id", "kind", "method", "remaining"))
        return JsonResponse({"faults": faults})
    if request.method != "POST":
        return JsonResponse({"error": "method not allowed"}, status=405)
    data = _json_body(request)
    kind = data.get("kind")
    times = data.get("times")
    if kind not in SandboxFault.Kind.values or (
        times is not None and (not isinstance(times, int) or times < 1)
    ):
        return JsonResponse(
            {"error": f"kind ∈ {sorted(SandboxFault.Kind.values)}, times ≥ 1 or null"},
            status=400,
        )
    fault = SandboxFault.objects.create(
        kind=kind, method=str(data.get("method") or "")[:80], remaining=times
    )
    return JsonResponse(
        {"id": fault.pk, "kind": fault.kind, "method": fault.method, "remaining": fault.remaining},
        status=201,
    )


@sandbox_view
@operator_only
def control_notifications(request: HttpRequest) -> HttpResponse:
    rows = SandboxNotification.objects.order_by("-id")[:100]
    return JsonResponse(
        {
            "notifications": [
                {
                    "id": n.pk,
                    "notify_id": n.notify_id,
                    "notify_type": n.params.get("notify_type", ""),
                    "status": n.status,
                    "attempts": n.attempts,
                    "last_error": n.last_error,
                }
                for n in rows
            ]
        }
    )
