"""Security headers the pages need beyond Django's own: a strict Content-Security-Policy."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# Everything is served by us (no CDN): scripts and styles from 'self' only. The API docs page
# (Swagger UI, whose files django-ninja ships and we serve) and the admin set inline styles, so
# they get their own policy; their scripts too come from 'self' only.
PAGE_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'self'"
)
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
