"""Security headers the pages need beyond Django's own (a strict Content-Security-Policy), the
one place that refuses strings Python cannot encode, and two of Django's middlewares doing only
the work a request needs (language, messages: docs/decisions.md, "The request stack's cost")."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.conf.urls.i18n import is_language_prefix_patterns_used
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.messages.storage import default_storage
from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.locale import LocaleMiddleware
from django.utils import translation
from django.utils.cache import patch_vary_headers
from django.utils.functional import SimpleLazyObject, empty
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


class RequestLocaleMiddleware(LocaleMiddleware):
    """Django's ``LocaleMiddleware`` (language from the cookie, then ``Accept-Language``, then
    ``LANGUAGE_CODE``; ``Vary: Accept-Language`` and ``Content-Language`` on the answer) without
    looking for a language in the path: our URLs carry none (no ``i18n_patterns``), yet Django's
    looks twice per request, and a path such as ``/api/…`` fails the look-up the slow way, by an
    exception, every time. A URL conf with ``i18n_patterns`` gets Django's own behaviour."""

    def process_request(self, request: HttpRequest) -> None:
        if _language_in_path(request):
            return super().process_request(request)
        translation.activate(translation.get_language_from_request(request))
        request.LANGUAGE_CODE = translation.get_language()  # type: ignore[attr-defined]
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if _language_in_path(request):
            return super().process_response(request, response)
        patch_vary_headers(response, ("Accept-Language",))
        response.headers.setdefault("Content-Language", translation.get_language())
        return response


def _language_in_path(request: HttpRequest) -> bool:
    urlconf = getattr(request, "urlconf", settings.ROOT_URLCONF)
    return is_language_prefix_patterns_used(urlconf)[0]


class LazyMessageMiddleware(MessageMiddleware):
    """Django's ``MessageMiddleware`` with the message storage built on first use: a page that
    shows or adds a message gets the same storage (cookie, then session) at the same point, an
    API call or a page that never touches messages builds none and writes no cookie."""

    def process_request(self, request: HttpRequest) -> None:
        request._messages = SimpleLazyObject(lambda: default_storage(request))  # type: ignore[attr-defined]

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        messages = getattr(request, "_messages", None)
        if isinstance(messages, SimpleLazyObject) and messages._wrapped is empty:
            return response  # never used: nothing to store
        return super().process_response(request, response)
