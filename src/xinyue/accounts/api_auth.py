"""How API callers prove who they are; each scheme yields an ``Actor`` on ``request.auth``.

Bearer tokens are tried against every resolver in ``settings.XINYUE_TOKEN_AUTHENTICATORS``
(API keys here; reader tokens are added by the readers app). Page sessions also work, with CSRF. The actor and its channel are decided by
``accounts.middleware`` (one rule for pages and API).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string
from ninja.security import HttpBearer, SessionAuth

from xinyue.accounts.middleware import request_actor, use_credential
from xinyue.core.actors import Actor


@cache
def _authenticators() -> list[Any]:
    return [import_string(path) for path in settings.XINYUE_TOKEN_AUTHENTICATORS]


class BearerActor(HttpBearer):
    openapi_description = "`Authorization: Bearer <token>`: an API key (xy_…) or a reader token."

    def __call__(self, request: HttpRequest) -> Actor | None:
        # ninja's reads ``request.headers``, which builds a copy of every header first.
        value = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _space, token = value.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            return None
        return self.authenticate(request, token)

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        for authenticate in _authenticators():
            actor = authenticate(token)
            if actor is not None:
                use_credential(request, actor)
                return actor
        return None


class SessionActor(SessionAuth):
    """A logged-in page user (cookie + CSRF token)."""

    def _get_key(self, request: HttpRequest) -> str | None:
        # CSRF protects a session; a caller without one is simply unauthenticated (401 in the
        # one error shape), not a failed CSRF check (403).
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        return request_actor(request)


def anonymous(request: HttpRequest) -> bool:
    """Last in an operation's ``auth``: a caller without credentials is let in as anonymous.
    The OpenAPI document marks such operations' credentials as optional."""
    return True


bearer = BearerActor()
session = SessionActor()
AUTH = [bearer, session]
# Public reads: a token, if sent, still identifies the caller; none is needed.
OPTIONAL_AUTH = [*AUTH, anonymous]
