"""The unified interface, ``/api/v1/`` (DESIGN §11): one NinjaAPI, one error shape, routers per app."""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from ninja.errors import AuthorizationError as NinjaAuthorizationError
from ninja.openapi.schema import REF_TEMPLATE, OpenAPISchema
from ninja.operation import Operation
from ninja.renderers import JSONRenderer
from ninja.schema import NinjaGenerateJsonSchema

from xinyue.accounts.api_auth import AUTH, anonymous
from xinyue.core.errors import DomainError
from xinyue.core.schemas import ErrorOut
from xinyue.core.throttling import ClientRate

refusals = logging.getLogger("xinyue.api.refusals")


class ChineseJSONRenderer(JSONRenderer):
    """UTF-8 JSON with Chinese as characters, not ``\\u`` escapes."""

    json_dumps_params = {"ensure_ascii": False}


# Responses the framework gives whatever a view declares, each in the one error shape: the
# document adds them to every operation they can happen to (DESIGN §11, docs/api.md).
COMMON_ERRORS: dict[int, str] = {
    400: "The body is not JSON (or not the declared content type): `http_error`; "
    "an `Idempotency-Key` longer than 200 characters: `idempotency_key_invalid`",
    401: "Missing or invalid credentials: `unauthenticated` (header `WWW-Authenticate: Bearer`)",
    403: "The credentials may not do this: `forbidden` or a more precise code "
    "(a page session's unsafe request without its CSRF token included)",
    409: "A request with this `Idempotency-Key` is still running: `idempotency_key_in_use`",
    413: "The body is larger than the server accepts: `payload_too_large`",
    422: "A parameter or body field is invalid: `invalid` with `detail.fields` naming each one, "
    "or a more precise code; `idempotency_key_reused` for a key sent before with another body",
    429: "Over the rate limit: `rate_limited` (header `Retry-After`, seconds)",
}
# Answered by the HTTP server before Django sees the request, so not in the error shape.
URI_TOO_LONG = "The request line (path and query) is longer than the server reads (about 4 KB)"
ERROR_HEADERS: dict[int, dict[str, Any]] = {
    401: {"WWW-Authenticate": {"schema": {"type": "string", "const": "Bearer"}}},
    429: {"Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"}}},
}
BODY_SOURCES = {"body", "form", "file"}
IDEMPOTENCY_KEY = {
    "in": "header",
    "name": "Idempotency-Key",
    "required": False,
    "description": "Same key + same body → the first response again (kept 48 hours per caller)",
    "schema": {"type": "string", "maxLength": 200},
}


class ContractSchema(OpenAPISchema):
    """The OpenAPI document as the API behaves: besides what each view declares, an operation
    lists the errors the framework answers for it (rate limit; credentials; bad parameters or
    body; ``Idempotency-Key`` on POSTs), and operations that let anonymous callers in say so in
    ``security``.
    Generated here once so that no decorator has to repeat them."""

    def operation_details(self, operation: Operation) -> dict[str, Any]:
        result = super().operation_details(operation)
        sources = {model.__ninja_param_source__ for model in operation.models}
        callbacks = list(operation.auth_callbacks)
        statuses = {429}
        if anonymous in callbacks:
            # Credentials are optional: they attribute the call, their absence is no error.
            result["security"] = [{}, *result.get("security", [])]
        elif callbacks:
            statuses.add(401)
            if set(operation.methods) - {"GET", "HEAD", "OPTIONS"}:
                statuses.add(403)  # a page session without its CSRF token
        if sources & BODY_SOURCES or any(_can_fail(p) for p in result["parameters"]):
            statuses.add(422)
        if "body" in sources:
            statuses.add(400)
        if "POST" in operation.methods:  # core.idempotency.IdempotencyMiddleware
            result["parameters"].append(IDEMPOTENCY_KEY)
            statuses |= {400, 409, 422}
        if sources & BODY_SOURCES:
            statuses.add(413)
        responses = result["responses"]
        if any(p["in"] == "query" for p in result["parameters"]):
            responses.setdefault(414, {"description": URI_TOO_LONG})
        for status in sorted(statuses):
            if status not in responses:
                responses[status] = self.error_response(status)
            elif status in ERROR_HEADERS:  # the view's own declaration wins, headers added
                responses[status].setdefault("headers", ERROR_HEADERS[status])
        result["responses"] = dict(sorted(responses.items()))
        return result

    def error_response(self, status: int) -> dict[str, Any]:
        if "ErrorOut" not in self.schemas:
            self.schemas["ErrorOut"] = ErrorOut.model_json_schema(
                ref_template=REF_TEMPLATE,
                schema_generator=NinjaGenerateJsonSchema,
                mode="serialization",
            )
        response: dict[str, Any] = {
            "description": COMMON_ERRORS[status],
            "content": {
                "application/json": {"schema": {"$ref": REF_TEMPLATE.format(model="ErrorOut")}}
            },
        }
        if status in ERROR_HEADERS:
            response["headers"] = ERROR_HEADERS[status]
        return response


def _can_fail(parameter: dict[str, Any]) -> bool:
    """Whether a value of this parameter can be refused: required, typed or constrained."""
    schema = parameter["schema"]
    if parameter.get("required") and parameter["in"] != "path":
        return True
    return schema.get("type") != "string" or bool(set(schema) - {"type", "title", "description"})


class XinyueAPI(NinjaAPI):
    """Our NinjaAPI: the contract document above, built once per process (it only changes with
    the code, and building it takes a good second)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        cache = self.__dict__.setdefault("_openapi_documents", {})
        if path_prefix not in cache:
            cache[path_prefix] = ContractSchema(api=self, path_prefix=path_prefix)
        return cache[path_prefix]


api = XinyueAPI(
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
    response = error_response(request, exc.http_status, exc.code, exc.message, exc.detail)
    if exc.http_status == 409:
        # A rule's refusal (out of stock, quota full …) is an answer, not a fault: logged at
        # DEBUG with its code instead of Django's WARNING line per 4xx ("Conflict: /api/…"),
        # which in a rush of orders was a tenth of the server's CPU. Refused access (401, 403),
        # throttling (429) and bad input (422) keep their warning.
        refusals.debug("%s %s refused: %s", request.method, request.path, exc.code)
        response._has_been_logged = True  # type: ignore[attr-defined]  # Django's own mark
    return response


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


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, "payload_too_large", "the request body is too large")


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return error_response(request, exc.status_code, "http_error", str(exc))


api.add_router("/", "xinyue.core.api.router")
api.add_router("/", "xinyue.libraries.api.router")
api.add_router("/", "xinyue.suppliers.api.router")
api.add_router("/", "xinyue.accounts.api.router")
api.add_router("/", "xinyue.readers.api.router")
api.add_router("/", "xinyue.credit.api.router")
api.add_router("/", "xinyue.cards.api.router")
api.add_router("/", "xinyue.catalog.api.router")
api.add_router("/", "xinyue.orders.api.router")
api.add_router("/", "xinyue.circulation.api.router")
api.add_router("/", "xinyue.insights.api.router")
