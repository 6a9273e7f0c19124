"""``Idempotency-Key`` for every API POST: same key + same body → the first response, once.

A reusable piece for the whole API (DESIGN §11), applied as middleware so that no endpoint can
forget it. The key is scoped to the caller (a hash of its credentials), so two clients can never
collide. A record is claimed *before* the view runs, under a unique constraint, so two concurrent
retries cannot both execute; the loser gets 409 and retries later. Server errors release the key,
and a response marked ``Cache-Control: no-store`` is never written to the table.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse

from xinyue.core import clock
from xinyue.core.clients import client_key
from xinyue.core.models import IdempotencyRecord

HEADER = "Idempotency-Key"
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
# Claim the key in one statement: insert, or take over a record past its time to live; a live
# record (another request's, or this key's earlier answer) leaves no row to return.
_CLAIM = (
    f"INSERT INTO {_TABLE} AS r (principal, key, method, path, body_hash, state, status_code,"
    " content_type, response_body, created_at) VALUES (%s, %s, %s, %s, %s, %s, NULL, '', NULL, %s)"
    " ON CONFLICT (principal, key) DO UPDATE SET method = excluded.method,"
    " path = excluded.path, body_hash = excluded.body_hash, state = excluded.state,"
    " status_code = NULL, content_type = '', response_body = NULL,"
    " created_at = excluded.created_at WHERE r.created_at < %s RETURNING id"
)


def _claim(
    principal: str,
    key: str,
    method: str,
    path: str,
    body_hash: str,
    now: dt.datetime,
    cutoff: dt.datetime,
) -> int | None:
    """The claimed record's id, or None when the key is taken (SQL: runs for every keyed POST;
    one autocommit statement instead of a transaction with a delete and an insert)."""
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(
            _CLAIM,
            [
                principal,
                key,
                method,
                path,
                body_hash,
                IdempotencyRecord.State.IN_PROGRESS,
                adapt(now),
                adapt(cutoff),
            ],
        )
        row = cursor.fetchone()
    return row[0] if row else None


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method != "POST" or not request.path.startswith("/api/"):
            return self.get_response(request)
        key = request.headers.get(HEADER)
        if not key:
            return self.get_response(request)
        if len(key) > MAX_KEY_LENGTH:
            return _error(
                400, "idempotency_key_invalid", f"{HEADER} is longer than {MAX_KEY_LENGTH}"
            )
        body_hash = hashlib.sha256(
            request.method.encode() + request.path.encode() + b"\0" + request.body
        ).hexdigest()
        principal = principal_of(request)
        now = clock.now()
        cutoff = now - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        record_id = _claim(principal, key, request.method, request.path, body_hash, now, cutoff)
        if record_id is None:
            return self._replay(principal, key, body_hash)

        response = self.get_response(request)
        # Server errors release the key for a retry; responses marked ``no-store`` (bearer tokens,
        # personal data) are never persisted, so a retry runs again instead of replaying them.
        if (
            response.status_code >= 500
            or getattr(response, "streaming", False)
            or "no-store" in response.get("Cache-Control", "")
        ):
            IdempotencyRecord.objects.filter(pk=record_id).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record_id).update(
            state=IdempotencyRecord.State.DONE,
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            response_body=bytes(response.content),
        )
        return response

    def _replay(self, principal: str, key: str, body_hash: str) -> HttpResponse:
        record = IdempotencyRecord.objects.filter(principal=principal, key=key).first()
        if record is None:  # released between our insert and this read: ask for a retry
            return _error(
                409, "idempotency_key_in_use", "a request with this key is being processed; retry"
            )
        if record.body_hash != body_hash:
            return _error(
                422,
                "idempotency_key_reused",
                f"this {HEADER} was used with a different request body",
            )
        if record.state != IdempotencyRecord.State.DONE:
            return _error(
                409, "idempotency_key_in_use", "a request with this key is being processed; retry"
            )
        response = HttpResponse(
            bytes(record.response_body or b""),
            status=record.status_code,
            content_type=record.content_type,
        )
        response["Idempotent-Replayed"] = "true"
        return response


def purge_expired_records() -> int:
    """Drop records past their time to live; returns how many went."""
    cutoff = clock.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted


__all__ = ["HEADER", "IdempotencyMiddleware", "purge_expired_records"]
