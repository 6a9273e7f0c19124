"""Rate limits on the public API (DESIGN §6): per client address for anonymous callers, per
credential (bearer token or page session) otherwise, on every operation.

A fixed window per key, counted in the database (``core.counters``: one statement per call), so
every web process of a deployment counts in the same place with nothing else to run. The rates
are read from settings at each request, so an operator (or a test) can change them without
rebuilding the API object.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from xinyue.core import counters
from xinyue.core.actors import Actor
from xinyue.core.clients import client_key

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip()]


def _credential(request: HttpRequest) -> str | None:
    """The credential that authenticated the call, or None for an anonymous caller."""
    if not isinstance(getattr(request, "auth", None), Actor):
        return None  # no credential, or a public operation's "anonymous" marker
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") or None


class ClientRate(BaseThrottle):
    """One counter per (caller, window); the caller is a hash, never an address or a token.

    One instance serves every thread of a web process: the wait is kept per thread."""

    def __init__(self) -> None:
        self._local = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        credential = _credential(request)
        if credential is None:
            rate = settings.XINYUE_API_RATE_ANONYMOUS
            ident = "a:" + client_key(request, purpose="rate")
        else:
            rate = settings.XINYUE_API_RATE_AUTHENTICATED
            ident = "c:" + hashlib.sha256(credential.encode()).hexdigest()[:32]
        self._local.wait = None
        if not rate:
            return True
        try:
            return self._count(ident, rate)
        except DatabaseError:
            # The counters' store failing must not take the API down with it: serve, and say so.
            log.warning("rate-limit counters unavailable; request not counted", exc_info=True)
            return True

    def _count(self, ident: str, rate: str) -> bool:
        limit, seconds = parse_rate(rate)
        now = time.time()
        window = int(now // seconds)
        count = counters.hit(f"rl:{ident}:{seconds}:{window}", ttl_seconds=seconds + 1)
        if count <= limit:
            return True
        self._local.wait = (window + 1) * seconds - now
        return False

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
