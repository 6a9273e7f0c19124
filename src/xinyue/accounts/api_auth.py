"""How API callers prove who they are; each scheme yields an ``Actor`` on ``request.auth``.

Bearer tokens are tried against every resolver in ``settings.XINYUE_TOKEN_AUTHENTICATORS``
(API keys here; reader tokens are added by the readers app). Page sessions also work, with CSRF.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.module_loading import import_string
from ninja.security import HttpBearer, SessionAuth

from xinyue.accounts.selectors import actor_for_user
from xinyue.core.actors import Actor, Channel


@cache
def _authenticators() -> list[Any]:
    return [import_string(path) for path in settings.XINYUE_TOKEN_AUTHENTICATORS]


class BearerActor(HttpBearer):
    openapi_description = "`Authorization: Bearer <token>`: an API key (xy_…) or a reader token."

    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        for authenticate in _authenticators():
            actor = authenticate(token)
            if actor is not None:
                request.actor = actor  # type: ignore[attr-defined]
                return actor
        return None


class SessionActor(SessionAuth):
    """A logged-in page user (cookie + CSRF token)."""

    def authenticate(self, request: HttpRequest, key: str | None) -> Actor | None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        actor = getattr(request, "actor", None) or actor_for_user(user, channel=Channel.PC)
        request.actor = actor  # type: ignore[attr-defined]
        return actor


def anonymous(request: HttpRequest) -> bool:
    """Last in an operation's ``auth``: a caller without credentials is let in as anonymous.
    The OpenAPI document marks such operations' credentials as optional."""
    return True


bearer = BearerActor()
session = SessionActor()
AUTH = [bearer, session]
# Public reads: a token, if sent, still identifies the caller; none is needed.
OPTIONAL_AUTH = [*AUTH, anonymous]
