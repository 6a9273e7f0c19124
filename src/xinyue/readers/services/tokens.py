"""Reader API tokens: ``POST /api/v1/auth/token`` issues one; bearer auth resolves it to an Actor.

A token is ``xyr_<prefix>_<secret>``: the prefix finds the row, a SHA-256 of the whole token
proves it (only the hash is stored, so a copied database holds no usable token).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import connection, transaction

from xinyue.core import audit, clock
from xinyue.core.actors import Actor, Channel
from xinyue.core.sqlite_writer import sqlite_writer
from xinyue.readers.models import Reader, ReaderToken

TOKEN_PREFIX = "xyr"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def issue_reader_token(
    *, reader: Reader, channel: Channel = Channel.API
) -> tuple[ReaderToken, str]:
    """A new bearer token for ``reader`` (after ``authenticate_reader``); returns (row, token)."""
    from xinyue.readers.services.identity import reader_actor

    prefix = secrets.token_hex(6)
    token = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    row = ReaderToken.objects.create(
        reader=reader,
        prefix=prefix,
        secret_hash=_hash(token),
        channel=channel.value,
        expires_at=clock.now() + dt.timedelta(hours=settings.XINYUE_READER_TOKEN_TTL_HOURS),
    )
    audit.record(
        actor=reader_actor(reader, channel=channel),
        action="reader.token_issued",
        obj=reader,
        token_prefix=prefix,
    )
    return row, token


def _parse(token: str) -> str | None:
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or not parts[1]:
        return None
    return parts[1]


@dataclass(frozen=True)
class LiveToken:
    """What a request needs of a live token (read for every API request of a reader)."""

    pk: int
    reader_id: int
    user_id: int | None
    channel: str
    last_used_at: dt.datetime | None


_LIVE_TOKEN = (
    "SELECT t.id, t.secret_hash, t.channel, t.last_used_at, r.id, r.user_id"
    f" FROM {ReaderToken._meta.db_table} t JOIN {Reader._meta.db_table} r ON r.id = t.reader_id"
    " WHERE t.prefix = %s AND t.revoked_at IS NULL AND t.expires_at > %s AND r.is_active"
)


def token_row(token: str) -> LiveToken | None:
    """The live token behind a presented token, or None (unknown, wrong, expired, revoked, its
    reader deactivated). One SQL statement, no model built: it runs for every API request."""
    prefix = _parse(token)
    if prefix is None:
        return None
    now = connection.ops.adapt_datetimefield_value(clock.now())
    with connection.cursor() as cursor:
        cursor.execute(_LIVE_TOKEN, [prefix, now])
        row = cursor.fetchone()
    if row is None or not hmac.compare_digest(row[1], _hash(token)):
        return None
    last_used = row[3]
    if last_used is not None and connection.vendor == "sqlite":
        # SQLite hands back text; its backend's converter (not on the base class) parses it.
        last_used = connection.ops.convert_datetimefield_value(last_used, None, connection)  # type: ignore[attr-defined]
    return LiveToken(
        pk=row[0], reader_id=row[4], user_id=row[5], channel=row[2], last_used_at=last_used
    )


def authenticate_reader_token(token: str) -> Actor | None:
    """Listed in ``settings.XINYUE_TOKEN_AUTHENTICATORS``: a reader token → the reader's Actor."""
    from xinyue.readers.services.identity import reader_actor

    row = token_row(token)
    if row is None:
        return None
    now = clock.now()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        with sqlite_writer():  # a web request's write: queue for the writer
            ReaderToken.objects.filter(pk=row.pk).update(last_used_at=now)
    try:
        channel = Channel(row.channel)
    except ValueError:
        channel = Channel.API
    reader = Reader.from_db(connection.alias, ["id", "user_id"], [row.reader_id, row.user_id])
    return reader_actor(reader, channel=channel)


@transaction.atomic
def revoke_reader_token(*, token: str) -> bool:
    row = token_row(token)
    if row is None:
        return False
    ReaderToken.objects.filter(pk=row.pk).update(revoked_at=clock.now())
    return True


def revoke_all_tokens(*, reader: Reader) -> int:
    return ReaderToken.objects.filter(reader=reader, revoked_at__isnull=True).update(
        revoked_at=clock.now()
    )
