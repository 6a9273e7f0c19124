"""Security headers the pages need beyond Django's own (a strict Content-Security-Policy), and
the one place that refuses strings Python cannot encode."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _

# Everything is served by us (no CDN): scripts and styles from 'self' only. The API docs page
# (Swagger UI, whose files django-ninja ships and we serve) and the admin set inline styles, so
# they get their own policy; their scripts too come from 'self' only.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


def page_policy(*, form_action: tuple[str, ...] = ()) -> str:
    """The page policy, letting a form's redirect go on to ``form_action`` origins (browsers
    apply ``form-action`` to the redirect after a POST: a provider's page is another origin)."""
    if not form_action:
        return PAGE_POLICY
    return PAGE_POLICY.replace("form-action 'self'", "form-action 'self' " + " ".join(form_action))


DOCS_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)


class SecurityHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            docs = request.path.startswith(("/api/v1/docs", "/backoffice/"))
            response["Content-Security-Policy"] = DOCS_POLICY if docs else PAGE_POLICY
        response.setdefault("Permissions-Policy", "camera=(self), geolocation=(), microphone=()")
        return response


# A JSON string can spell a lone UTF-16 surrogate (``"\ud800"``); Python decodes it into a str
# that cannot be encoded again, which fails deep inside whatever touches it first (the blind
# index, the database driver). Only the escape can make one: raw surrogate bytes are invalid
# UTF-8, and Django decodes form and query bytes with replacement characters.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


def lone_surrogate_path(value: Any, path: tuple[str, ...] = ()) -> str | None:
    """The dotted path of the first string (value or key) holding a lone surrogate, or None."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return ".".join(path) or "body"
        return None
    if isinstance(value, dict):
        for key, item in value.items():
            # A bad key cannot be named back: the object holding it is.
            found = lone_surrogate_path(key, path) or lone_surrogate_path(item, (*path, key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = lone_surrogate_path(item, (*path, str(index)))
            if found:
                return found
    return None


class LoneSurrogateMiddleware:
    """Refuse a JSON body with a lone surrogate in any string: 422 in the API's error shape,
    naming the field, before any view, idempotency record or audit row sees it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method in ("POST", "PUT", "PATCH", "DELETE") and "json" in (
            request.content_type or ""
        ):
            try:
                body = request.body
            except RequestDataTooBig:
                return self.get_response(request)  # the API answers 413 in its error shape
            if _SURROGATE_ESCAPE.search(body):
                try:
                    data = json.loads(body)
                except ValueError:
                    data = None  # not JSON: the view's parser says so
                field = lone_surrogate_path(data) if data is not None else None
                if field is not None:
                    message = _("含有无效字符（孤立的 UTF-16 代理项）")
                    return JsonResponse(
                        {
                            "code": "invalid",
                            "message": f"{field}: {message}",
                            "detail": {"fields": {field: str(message)}},
                        },
                        status=422,
                        json_dumps_params={"ensure_ascii": False},
                    )
        return self.get_response(request)
