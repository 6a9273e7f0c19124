"""``Idempotency-Key`` for every API POST: same key + same body → the first response, once.

A reusable piece for the whole API (DESIGN §11), applied as middleware so that no endpoint can
forget it. The key is scoped to the caller (a hash of its credentials), so two clients can never
collide. A record is claimed *before* the view runs, under a unique constraint, so two concurrent
retries cannot both execute; the loser gets 409 and retries later. Server errors release the key,
and a response marked ``Cache-Control: no-store`` is never written to the table.

An operation whose effect is itself unique per key (placing an order: the order row carries the
key under a unique constraint, checked inside the placing transaction) may instead record its
answer in the transaction that makes the effect (``record_in_transaction``, ``Claim``): the
middleware then only reads before the view (a live record is replayed, or answers 409/422 as
above), and the answer is written with the effect — one write instead of three on SQLite's single
writer. A concurrent duplicate does not get 409 there: it waits for the first one's transaction
and is answered with the first answer. Refusals of such an operation are written after the view,
as before, so that a retried refusal is replayed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from xinyue.core import clock
from xinyue.core.clients import client_key
from xinyue.core.models import IdempotencyRecord
from xinyue.core.sqlite_writer import sqlite_writer

HEADER = "Idempotency-Key"
_META_KEY = "HTTP_IDEMPOTENCY_KEY"  # the header as WSGI passes it
MAX_KEY_LENGTH = 200


def _error(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": message, "detail": {"header": HEADER}}, status=status
    )


def principal_of(request: HttpRequest) -> str:
    """Whose key space this request uses: its bearer credentials, its session, or — for an
    anonymous caller — its client address (keyed hash), so that nobody replays another
    caller's response by guessing their key."""
    auth = request.headers.get("Authorization", "")
    if auth:
        return "auth:" + hashlib.sha256(auth.encode()).hexdigest()[:40]
    session_key = request.COOKIES.get(settings.SESSION_COOKIE_NAME)
    if session_key:
        return "session:" + hashlib.sha256(session_key.encode()).hexdigest()[:40]
    return "anon:" + client_key(request, purpose="idempotency")


_TABLE = IdempotencyRecord._meta.db_table
# Write a record in one statement: insert, or take over a record past its time to live; a live
# record (another request's, or this key's earlier answer) is left as it is.
_UPSERT = (
    f"INSERT INTO {_TABLE} AS r (principal, key, method, path, body_hash, state, status_code,"
    " content_type, response_body, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
    " ON CONFLICT (principal, key) DO UPDATE SET method = excluded.method,"
    " path = excluded.path, body_hash = excluded.body_hash, state = excluded.state,"
    " status_code = excluded.status_code, content_type = excluded.content_type,"
    " response_body = excluded.response_body, created_at = excluded.created_at"
    " WHERE r.created_at < %s"
)
_LIVE = (
    f"SELECT state, body_hash, status_code, content_type, response_body FROM {_TABLE}"
    " WHERE principal = %s AND key = %s AND created_at >= %s"
)

# Operations that write their answer's record inside their own transaction (``Claim.answer``):
# (method, path). Registered by the operation's module (``record_in_transaction``).
_IN_TRANSACTION: set[tuple[str, str]] = set()


def record_in_transaction(method: str, path: str) -> None:
    """Declare that the operation at ``method path`` records its keyed answers itself, in the
    transaction that makes its effect (``Claim``): the middleware then claims nothing before it
    runs. Only for an operation that cannot take effect twice for one key on its own (a unique
    key on what it writes, checked inside that transaction)."""
    _IN_TRANSACTION.add((method, path))


@dataclass
class Claim:
    """A keyed POST on its way through the view.

    ``admitted``: the key was free (or its record expired) when the view was about to run; only
    then is anything written for it. ``record_id``: the record claimed before the view ran (the
    general case). None for an operation that records in its own transaction: its view sets
    ``render`` (the answer it gives for its effect) and passes ``self`` to its service, which
    writes that answer with the effect (``record_answers``); ``recorded`` tells the middleware
    that nothing is left to write."""

    principal: str
    key: str
    method: str
    path: str
    body_hash: str
    created_at: dt.datetime
    cutoff: dt.datetime
    admitted: bool = False
    record_id: int | None = None
    recorded: bool = False
    render: Callable[[Any], tuple[int, str, bytes]] | None = None
    response: tuple[int, str, bytes] | None = None  # what ``record_answers`` wrote

    def _row(self, state: str, status: int | None, content_type: str, body: bytes | None) -> list:
        adapt = connection.ops.adapt_datetimefield_value
        return [
            self.principal,
            self.key,
            self.method,
            self.path,
            self.body_hash,
            state,
            status,
            content_type,
            body,
            adapt(self.created_at),
            adapt(self.cutoff),
        ]

    def answer_for(self, effect: Any) -> tuple[int, str, bytes]:
        """The answer (status, content type, body) the operation gives for ``effect``."""
        if self.render is None:
            raise RuntimeError("the operation recording in its transaction set no render")
        return self.render(effect)

    def recorded_answer(self) -> HttpResponse | None:
        """The answer recorded for this key by the request that took effect first (a retry or a
        concurrent duplicate that the service answered with the existing effect): its replay, a
        refusal when the body differed, or None when no live record holds one."""
        record = _live_record(self.principal, self.key, self.cutoff)
        if record is None:
            return None
        self.recorded = True  # the key's record stands: nothing more to write
        return _answer(record, self.body_hash)


def claim_of(request: HttpRequest) -> Claim | None:
    """The admitted claim of a keyed POST to an operation that records in its own transaction."""
    claim: Claim | None = getattr(request, "_idempotency", None)
    return claim if claim is not None and claim.admitted and claim.record_id is None else None


def record_answers(answers: Sequence[tuple[Claim, int, str, bytes]]) -> None:
    """Inside the operation's transaction: each claim's answer (status, content type, body), one
    statement for all. A record past its time to live is taken over; a live one (a concurrent
    refusal with the same key) is left as it is."""
    if not answers:
        return
    done = IdempotencyRecord.State.DONE
    with connection.cursor() as cursor:
        cursor.executemany(
            _UPSERT, [claim._row(done, status, kind, body) for claim, status, kind, body in answers]
        )
    for claim, status, content_type, body in answers:
        claim.recorded = True
        claim.response = (status, content_type, body)


def _claim(claim: Claim) -> int | None:
    """The claimed record's id, or None when the key is taken (SQL: runs for every keyed POST;
    one autocommit statement instead of a transaction with a delete and an insert)."""
    with sqlite_writer(), connection.cursor() as cursor:
        cursor.execute(
            _UPSERT + " RETURNING id",
            claim._row(IdempotencyRecord.State.IN_PROGRESS, None, "", None),
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _live_record(principal: str, key: str, cutoff: dt.datetime) -> tuple[Any, ...] | None:
    with connection.cursor() as cursor:
        cursor.execute(_LIVE, [principal, key, connection.ops.adapt_datetimefield_value(cutoff)])
        return cursor.fetchone()


def _in_use() -> JsonResponse:
    return _error(
        409, "idempotency_key_in_use", "a request with this key is being processed; retry"
    )


def _answer(record: tuple[Any, ...], body_hash: str) -> HttpResponse:
    """What a key already used answers: a different body is refused, a request still running
    asks for a retry, a finished one is replayed."""
    state, recorded_hash, status_code, content_type, body = record
    if recorded_hash != body_hash:
        return _error(
            422,
            "idempotency_key_reused",
            f"this {HEADER} was used with a different request body",
        )
    if state != IdempotencyRecord.State.DONE:
        return _in_use()
    response = HttpResponse(bytes(body or b""), status=status_code, content_type=content_type)
    response["Idempotent-Replayed"] = "true"
    return response


def _kept(response: HttpResponse) -> bool:
    """Whether a response may be written to the table: server errors release the key for a
    retry; responses marked ``no-store`` (bearer tokens, personal data) are never persisted, so
    a retry runs again instead of replaying them."""
    return not (
        response.status_code >= 500
        or getattr(response, "streaming", False)
        or "no-store" in response.get("Cache-Control", "")
    )


class IdempotencyMiddleware:
    """Hashes a keyed POST's body on the way in, claims the key right before the view runs
    (``process_view``: after URL resolution, so every operation's module has declared itself),
    writes the answer after it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.path.startswith("/api/"):
            key = request.META.get(_META_KEY)  # ``request.headers`` copies every header
            if key and len(key) > MAX_KEY_LENGTH:
                return _error(
                    400, "idempotency_key_invalid", f"{HEADER} is longer than {MAX_KEY_LENGTH}"
                )
            if key:
                # The body is hashed here, before any view hook could consume its stream.
                body_hash = hashlib.sha256(
                    request.method.encode() + request.path.encode() + b"\0" + request.body
                ).hexdigest()
                now = clock.now()
                cutoff = now - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
                request._idempotency = Claim(  # type: ignore[attr-defined]
                    principal_of(request), key, request.method, request.path, body_hash, now, cutoff
                )
        response = self.get_response(request)
        claim: Claim | None = getattr(request, "_idempotency", None)
        if claim is None or not claim.admitted:
            return response
        if claim.record_id is None:
            # Recorded in the operation's transaction; else (a refusal, or an answer to a
            # duplicate) written now, unless a live record already holds the key.
            if not claim.recorded and _kept(response):
                content_type = response.get("Content-Type", "")
                with sqlite_writer():  # autocommit writes queue for the one writer
                    record_answers([(claim, response.status_code, content_type, response.content)])
            return response
        records = IdempotencyRecord.objects.filter(pk=claim.record_id)
        with sqlite_writer():
            if not _kept(response):
                records.delete()
                return response
            records.update(
                state=IdempotencyRecord.State.DONE,
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                response_body=bytes(response.content),
            )
        return response

    def process_view(
        self, request: HttpRequest, view: Any, args: Any, kwargs: Any
    ) -> HttpResponse | None:
        claim: Claim | None = getattr(request, "_idempotency", None)
        if claim is None:
            return None
        if (request.method, request.path) in _IN_TRANSACTION:
            # One read, no write: the operation records its answer with its effect.
            record = _live_record(claim.principal, claim.key, claim.cutoff)
            if record is not None:
                return _answer(record, claim.body_hash)
        else:
            claim.record_id = _claim(claim)
            if claim.record_id is None:
                record = _live_record(claim.principal, claim.key, claim.cutoff)
                if record is None:  # released between our insert and this read: retry
                    return _in_use()
                return _answer(record, claim.body_hash)
        claim.admitted = True
        return None


def purge_expired_records() -> int:
    """Drop records past their time to live; returns how many went."""
    cutoff = clock.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


__all__ = [
    "HEADER",
    "Claim",
    "IdempotencyMiddleware",
    "claim_of",
    "purge_expired_records",
    "record_answers",
    "record_in_transaction",
]
