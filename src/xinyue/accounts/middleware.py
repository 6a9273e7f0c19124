"""Who is calling, decided once per request.

``ActorMiddleware`` gives every request ``request.channel`` and ``request.actor`` (an ``Actor``
or ``None``) from its page session; the API's auth classes (``accounts.api_auth``) put the bearer
credential's actor in its place. Views, API operations and request helpers read them through
``request_actor`` and ``request_channel`` only; nothing else builds an actor from a request.

The channel rule, in this order:

1. A bearer credential carries its own channel: a reader token the channel its app declared
   when the token was issued (``POST /api/v1/auth/token {"channel": "alipay"}``), an API key
   ``api``.
2. The desk console (``/console/desk/``) is ``desk``: staff at the counter.
3. The in-app browsers' marker in the ``User-Agent``: ``AlipayClient`` → ``alipay``,
   ``MicroMessenger`` → ``wechat``. Both apps add it to every request their webview makes, so
   it holds on every page and on the API calls those pages make with the session.
4. Otherwise ``api`` for an API call without a session (a script), ``pc`` for everything else.

Not used: a query parameter (lost at the next link, and anyone can add it) and a session marker
set at channel log-in (a PC browser that logs in by scanning with the Alipay app is still a PC).
The channel is a statistic (the report's order sources), not a permission: nothing is decided
on it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from xinyue.accounts.selectors import actor_for_user
from xinyue.core.actors import Actor, Channel

DESK_PATH = "/console/desk/"
_UNSET = object()
_CREDENTIAL = object()
USER_AGENT_MARKERS = (("AlipayClient", Channel.ALIPAY), ("MicroMessenger", Channel.WECHAT))


def channel_from_request(request: HttpRequest) -> Channel:
    """Rules 2–4 above (rule 1 is the bearer credential's own)."""
    if request.path.startswith(DESK_PATH):
        return Channel.DESK
    agent = request.META.get("HTTP_USER_AGENT", "")  # ``request.headers`` copies every header
    for marker, channel in USER_AGENT_MARKERS:
        if marker in agent:
            return channel
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    if request.path.startswith("/api/") and not signed_in:
        return Channel.API
    return Channel.PC


def _session_actor(request: HttpRequest) -> Actor | None:
    user = getattr(request, "user", None)
    signed_in = user is not None and user.is_authenticated
    request._actor_user_id = user.pk if signed_in else None  # type: ignore[attr-defined, union-attr]
    return actor_for_user(user, channel=channel_from_request(request)) if signed_in else None


def use_credential(request: HttpRequest, actor: Actor) -> None:
    """The API's auth classes: the request acts as ``actor`` (rule 1 above)."""
    request.actor = actor  # type: ignore[attr-defined]
    request.channel = actor.channel  # type: ignore[attr-defined]
    request._actor_user_id = _CREDENTIAL  # type: ignore[attr-defined]


def request_actor(request: HttpRequest) -> Actor | None:
    """The actor behind ``request``: the API credential's, else the page session's.

    Follows a log-in or log-out earlier in the same request (the session's user changed)."""
    auth = getattr(request, "auth", None)
    if isinstance(auth, Actor):
        return auth
    built_for = getattr(request, "_actor_user_id", _UNSET)
    if built_for is _CREDENTIAL:
        return request.actor  # type: ignore[attr-defined]
    user = getattr(request, "user", None)
    user_id = user.pk if user is not None and user.is_authenticated else None
    if built_for is _UNSET or built_for != user_id:
        request.actor = _session_actor(request)  # type: ignore[attr-defined]
    return request.actor  # type: ignore[attr-defined]


def request_channel(request: HttpRequest) -> Channel:
    """The channel of ``request`` (the actor's when there is one)."""
    actor = request_actor(request)
    if actor is not None:
        return actor.channel
    channel = getattr(request, "channel", None)
    return channel if isinstance(channel, Channel) else channel_from_request(request)


class ActorMiddleware:
    """Sets ``request.channel`` and ``request.actor`` (after Django's authentication)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.channel = channel_from_request(request)  # type: ignore[attr-defined]
        request.actor = _session_actor(request)  # type: ignore[attr-defined]
        return self.get_response(request)
