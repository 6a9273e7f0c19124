"""Shared counters with an expiry, one SQL statement per hit (rate limits, once-per-window claims).

Why not the database cache: Django's ``DatabaseCache`` spends a transaction on each ``add``
(counting the whole table for its cull, a read, then a write) and makes ``incr`` a read plus
another such ``set``; on SQLite that is a write lock held for four statements on every API call.
Here a hit is one ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (SQLite ≥ 3.35, PostgreSQL),
atomic on both engines, so concurrent processes never lose a count.
"""

from __future__ import annotations

import datetime as dt
import random

from django.db import connection
from django.utils import timezone

from xinyue.core.models import SharedCounter

# A new key purges the expired ones with this chance: the table stays small without a job.
PURGE_CHANCE = 1 / 256


def hit(key: str, *, ttl_seconds: int) -> int:
    """Count one hit on ``key`` and return its count; a key ``ttl_seconds`` past its first hit
    has expired and starts again at 1."""
    table = connection.ops.quote_name(SharedCounter._meta.db_table)
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    sql = (
        f'INSERT INTO {table} ("key", "count", "expires_at") VALUES (%s, 1, %s) '
        f'ON CONFLICT ("key") DO UPDATE SET '
        f'"count" = CASE WHEN {table}."expires_at" <= %s THEN 1 ELSE {table}."count" + 1 END, '
        f'"expires_at" = CASE WHEN {table}."expires_at" <= %s THEN excluded."expires_at" '
        f'ELSE {table}."expires_at" END '
        f'RETURNING "count"'
    )
    expires = adapt(now + dt.timedelta(seconds=ttl_seconds))
    with connection.cursor() as cursor:
        cursor.execute(sql, [key, expires, adapt(now), adapt(now)])
        count = cursor.fetchone()[0]
    if count == 1 and random.random() < PURGE_CHANCE:
        purge_expired()
    return count


def purge_expired() -> int:
    """Drop counters past their expiry; returns how many went."""
    deleted, _ = SharedCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
