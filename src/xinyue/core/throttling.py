"""Rate limits on the public API (DESIGN §6): per client address for anonymous callers, per
credential (bearer token or page session) otherwise, on every operation.

A fixed window per key. Each web process counts the hits it admits in memory and sends them to
the shared counter (``core.counters``, one statement) in batches: when a key has ``N`` hits not
yet sent (never on a timer: a caller with fewer than ``N`` hits in a window costs no write at all,
and the bound below holds by the batch size alone); the answer tells the process what all
processes have sent. ``N`` is ``XINYUE_API_RATE_BATCH`` but at most a twentieth of the
limit; a limit under 40 is counted in the shared counter on every hit, exactly, as before.
What batches cost in precision, proven in ``docs/decisions.md`` ("Rate limits counted in process"):

* a refusal is always right: a process refuses only when what the shared counter last told it
  plus its own unsent hits reach the limit, and both only grow within a window;
* over all P processes a window admits at most ``limit + P × N − 1`` hits: a process admits at
  most N hits that the shared counter has not acknowledged (one batch in flight per key; a
  thread that would exceed N waits for the batch), so once the shared count reaches the limit
  every other process can add at most N before its next exchange tells it so.

The rates are read from settings at each request, so an operator (or a test) can change them
without rebuilding the API object.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest
from ninja.throttling import BaseThrottle

from xinyue.core import counters
from xinyue.core.actors import Actor
from xinyue.core.clients import client_key

log = logging.getLogger(__name__)

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}
# A batch is at most this share of the limit, so the bound above stays small beside the limit.
BATCH_SHARE = 20


def parse_rate(rate: str) -> tuple[int, int]:
    """``"600/min"`` → (600, 60)."""
    count, _, unit = rate.partition("/")
    return int(count), _UNITS[unit.strip()]


def batch_for(limit: int) -> int:
    """How many admitted hits of one key a process may hold before it sends them."""
    return max(1, min(settings.XINYUE_API_RATE_BATCH, limit // BATCH_SHARE))


@dataclass
class _Key:
    """What one process knows of one (caller, window) key."""

    expires: float  # monotonic time after which the window is over
    seen: int = 0  # the shared count at the last exchange (every process's sent hits)
    unsent: int = 0  # hits admitted here and not sent yet
    in_flight: int = 0  # hits being sent now (one batch at a time)


@dataclass
class LocalCounts:
    """One process's counts, sent to the shared counter in batches. Thread-safe."""

    _keys: dict[str, _Key] = field(default_factory=dict)
    _changed: threading.Condition = field(default_factory=threading.Condition)
    _sweep_at: int = 1024

    def admit(self, key: str, *, limit: int, seconds: int) -> bool:
        """Count one hit on ``key`` and say whether it is within ``limit``."""
        batch = batch_for(limit)
        if batch == 1:  # a small limit: every hit asks the shared counter, exactly as strict
            return counters.hit(key, ttl_seconds=seconds + 1) <= limit
        with self._changed:
            now = time.monotonic()
            state = self._keys.get(key)
            if state is None:
                state = self._keys[key] = _Key(expires=now + seconds + 1)
                if len(self._keys) >= self._sweep_at:
                    self._sweep(now)
            # Never more than ``batch`` hits the shared counter has not acknowledged.
            while state.in_flight and state.in_flight + state.unsent >= batch:
                self._changed.wait(timeout=1.0)
            if state.seen + state.in_flight + state.unsent >= limit:
                return False
            state.unsent += 1
            if state.in_flight or state.unsent < batch:
                return True
            amount, state.in_flight, state.unsent = state.unsent, state.unsent, 0
        try:
            count = counters.hit(key, ttl_seconds=seconds + 1, amount=amount)
        except DatabaseError:
            with self._changed:
                state.unsent += amount
                state.in_flight = 0
                self._changed.notify_all()
            raise
        with self._changed:
            state.seen = max(state.seen, count)
            state.in_flight = 0
            self._changed.notify_all()
        return True

    def clear(self) -> None:
        """Forget every count (tests start from nothing)."""
        with self._changed:
            self._keys.clear()

    def _sweep(self, now: float) -> None:
        for key in [k for k, s in self._keys.items() if s.expires <= now and not s.in_flight]:
            del self._keys[key]
        self._sweep_at = max(1024, 2 * len(self._keys))


def _credential(request: HttpRequest) -> str | None:
    """The credential that authenticated the call, or None for an anonymous caller."""
    if not isinstance(getattr(request, "auth", None), Actor):
        return None  # no credential, or a public operation's "anonymous" marker
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header
    return request.COOKIES.get(settings.SESSION_COOKIE_NAME, "") or None


# This process's counts (every ``ClientRate`` of the API shares them).
COUNTS = LocalCounts()


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
        if COUNTS.admit(f"rl:{ident}:{seconds}:{window}", limit=limit, seconds=seconds):
            return True
        self._local.wait = (window + 1) * seconds - now
        return False

    def wait(self) -> float | None:
        return getattr(self._local, "wait", None)
