"""The unified interface, ``/api/v1/`` (DESIGN §11): one NinjaAPI, one error shape, routers per app."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.errors import AuthorizationError as NinjaAuthorizationError
from ninja.renderers import JSONRenderer

from xinyue.accounts.api_auth import AUTH
from xinyue.core.errors import DomainError
from xinyue.core.throttling import ClientRate


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON with Chinese as characters, not ``\\u`` escapes."""

    json_dumps_params = {"ensure_ascii": False}


api = NinjaAPI(
    renderer=ChineseJSONRenderer(),
    title="信阅 API",
    version="1",
    description=(
        "The unified interface of the 信阅 credit service platform for member libraries' systems, "
        "channel apps, suppliers and kiosks. Errors are `{code, message, detail}`. "
        "POSTs accept an `Idempotency-Key` header: same key + same body → the first response."
    ),
    urls_namespace="api-v1",
    auth=AUTH,
    throttle=[ClientRate()],
)


def error_response(
    request: HttpRequest, status: int, code: str, message: str, detail: dict | None = None
) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "message": message, "detail": detail or {}}, status=status
    )


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return error_response(request, exc.http_status, exc.code, exc.message, exc.detail)


def _field_name(loc: list) -> str:
    # ninja reports ["body", "payload", "id_number"]; the client knows the field as "id_number".
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form", "cookie")]
    if len(parts) > 1 and parts[0] in {"payload", "data", "filters"}:
        parts = parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    fields: dict[str, str] = {}
    for error in exc.errors:
        fields.setdefault(_field_name(list(error.get("loc", []))), str(error.get("msg", "invalid")))
    message = "; ".join(f"{name}: {msg}" for name, msg in fields.items())
    return error_response(request, 422, "invalid", message, {"fields": fields})


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    response = error_response(request, 401, "unauthenticated", "missing or invalid credentials")
    response["WWW-Authenticate"] = "Bearer"
    return response


@api.exception_handler(NinjaAuthorizationError)
def on_forbidden(request: HttpRequest, exc: NinjaAuthorizationError) -> HttpResponse:
    return error_response(request, 403, "forbidden", "not allowed")


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, "not_found", str(exc) or "not found")


@api.exception_handler(Throttled)
def on_throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    response = error_response(request, 429, "rate_limited", "too many requests; retry later")
    if exc.wait:
        response["Retry-After"] = str(int(exc.wait) + 1)
    return response


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


api.add_router("/", "xinyue.core.api.router")
api.add_router("/", "xinyue.libraries.api.router")
api.add_router("/", "xinyue.accounts.api.router")
api.add_router("/", "xinyue.readers.api.router")
api.add_router("/", "xinyue.credit.api.router")
api.add_router("/", "xinyue.cards.api.router")
api.add_router("/", "xinyue.catalog.api.router")
api.add_router("/", "xinyue.orders.api.router")
api.add_router("/", "xinyue.circulation.api.router")
api.add_router("/", "xinyue.insights.api.router")
