"""Guessing passwords, throttled in the database: one mechanism for every log-in.

Failures are counted per key (an account, a client address — always as a keyed hash, never in
clear) in rows that every web process shares. ``XINYUE_LOGIN_MAX_FAILURES_PER_*`` failures within
``XINYUE_LOGIN_WINDOW_MINUTES`` lock that key for ``XINYUE_LOGIN_LOCKOUT_MINUTES``; a locked key
is refused before the password is checked, so the right password does not help a guesser.
Each app keeps its rows in its own table (a ``LoginThrottleRow`` subclass): readers are counted
by the blind index of their ID number, staff by their user name.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac

from xinyue.core.errors import LoginThrottled
from xinyue.core.models import LoginThrottleRow

log = logging.getLogger("xinyue.security")

# (scope, key, limit)
ThrottleKey = tuple[str, str, int]


def keyed_hash(purpose: str, value: str) -> str:
    """A stable keyed hash (HMAC-SHA256 under SECRET_KEY) of a user name or an address."""
    return salted_hmac(f"xinyue.login-throttle.{purpose}", value, algorithm="sha256").hexdigest()


def check(model: type[LoginThrottleRow], keys: list[ThrottleKey], now: dt.datetime) -> None:
    """Refuse (``LoginThrottled``, 429) while any of ``keys`` is locked."""
    for scope, key, _limit in keys:
        row = model.objects.filter(scope=scope, key=key, locked_until__gt=now).first()
        if row is not None:
            retry = max(1, int((row.locked_until - now).total_seconds()))
            raise LoginThrottled(retry_after_seconds=retry, scope=scope)


def record_failure(
    model: type[LoginThrottleRow], keys: list[ThrottleKey], now: dt.datetime
) -> list[ThrottleKey]:
    """Count one failure on every key, in its own committed transaction (the refusal that follows
    must not roll it back). A key reaching its limit within the window is locked; the keys locked
    by this failure are returned (the caller may tell the account's owner)."""
    locked: list[ThrottleKey] = []
    window = dt.timedelta(minutes=settings.XINYUE_LOGIN_WINDOW_MINUTES)
    lockout = dt.timedelta(minutes=settings.XINYUE_LOGIN_LOCKOUT_MINUTES)
    for scope, key, limit in keys:
        with transaction.atomic():
            model.objects.get_or_create(scope=scope, key=key, defaults={"window_started_at": now})
            row = model.objects.select_for_update().get(scope=scope, key=key)
            if row.window_started_at + window <= now:
                row.failures, row.window_started_at = 0, now
            row.failures += 1
            if row.failures >= limit:
                row.locked_until = now + lockout
                row.failures, row.window_started_at = 0, now
                log.warning(
                    "login locked for %s key %s… until %s", scope, key[:8], row.locked_until
                )
                locked.append((scope, key, limit))
            row.save()
    return locked


def clear(model: type[LoginThrottleRow], scope: str, key: str) -> None:
    """A successful log-in forgets the account's failures (never the address's)."""
    model.objects.filter(scope=scope, key=key).delete()
