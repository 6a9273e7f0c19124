"""Shared counters with an expiry (rate limits, once-per-window claims), written in batches.

Why not the database cache: Django's ``DatabaseCache`` spends a transaction on each ``add``
(counting the whole table for its cull, a read, then a write) and makes ``incr`` a read plus
another such ``set``; on SQLite that is a write lock held for four statements on every API call.
Here any number of keys is counted with one ``INSERT … ON CONFLICT DO UPDATE … RETURNING``
(SQLite ≥ 3.35, PostgreSQL), atomic on both engines, so concurrent processes never lose a count.
Callers send what they counted in process in batches (``core.throttling``, the search-once claim
in ``insights``): one statement per batch, not one per request.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Mapping

from django.db import connection
from django.utils import timezone

from xinyue.core.models import SharedCounter
from xinyue.core.sqlite_writer import sqlite_writer

# A batch that creates a key purges the expired ones with this chance: the table stays small
# without a job.
PURGE_CHANCE = 1 / 256


def add(amounts: Mapping[str, int], *, ttl_seconds: int) -> dict[str, int]:
    """Add ``amounts[key]`` to each key's count in one statement and return the counts after.

    A key ``ttl_seconds`` past its first count has expired and starts again from its amount."""
    if not amounts:
        return {}
    table = connection.ops.quote_name(SharedCounter._meta.db_table)
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    expires = adapt(now + dt.timedelta(seconds=ttl_seconds))
    values = ", ".join(["(%s, %s, %s)"] * len(amounts))
    sql = (
        f'INSERT INTO {table} ("key", "count", "expires_at") VALUES {values} '
        f'ON CONFLICT ("key") DO UPDATE SET '
        f'"count" = CASE WHEN {table}."expires_at" <= %s THEN excluded."count" '
        f'ELSE {table}."count" + excluded."count" END, '
        f'"expires_at" = CASE WHEN {table}."expires_at" <= %s THEN excluded."expires_at" '
        f'ELSE {table}."expires_at" END '
        f'RETURNING "key", "count"'
    )
    params: list[object] = []
    for key, amount in amounts.items():
        params += [key, amount, expires]
    params += [adapt(now), adapt(now)]
    with sqlite_writer(), connection.cursor() as cursor:  # a web request's write: queue for it
        cursor.execute(sql, params)
        counts = dict(cursor.fetchall())
    created = any(counts[key] == amount for key, amount in amounts.items())
    if created and random.random() < PURGE_CHANCE:
        purge_expired()
    return counts


def hit(key: str, *, ttl_seconds: int, amount: int = 1) -> int:
    """Count ``amount`` hits on ``key`` and return its count (see ``add``)."""
    return add({key: amount}, ttl_seconds=ttl_seconds)[key]


def purge_expired() -> int:
    """Drop counters past their expiry; returns how many went."""
    deleted, _ = SharedCounter.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted


def value(key: str) -> int:
    """The count of ``key`` (0 when it was never counted or has expired): one primary-key read."""
    table = connection.ops.quote_name(SharedCounter._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT "count" FROM {table} WHERE "key" = %s AND "expires_at" > %s',
            [key, connection.ops.adapt_datetimefield_value(timezone.now())],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0
