"""Platform-level operations: health."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection, transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from ninja import Router, Schema

router = Router(tags=["health"])
log = logging.getLogger(__name__)

# How long a load balancer or client should wait before asking again when health is degraded.
RETRY_AFTER_SECONDS = 10


class HealthOut(Schema):
    status: str
    database: str
    writable: bool


def _database_state() -> tuple[str, bool]:
    """("ok" | "read_only" | "unreachable", writable). Writability is proven by a write: a
    table created and rolled back (no table of ours needed, nothing left behind), which fails on
    a read-only file, a read-only PostgreSQL transaction or a standby."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return "unreachable", False
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("CREATE TABLE xinyue_health_probe (x INTEGER)")
            transaction.set_rollback(True)
    except DatabaseError as exc:
        log.warning("health: the database refuses writes: %s", exc)
        return "read_only", False
    return "ok", True


@router.get(
    "/health",
    response={200: HealthOut, 503: HealthOut},
    auth=None,
    summary="Liveness, database and writability check",
    description=(
        "200 `{status: ok, database: ok, writable: true}`. When the database cannot be reached "
        "or refuses writes: 503 `{status: degraded, database: unreachable|read_only, "
        "writable: false}` with `Retry-After`."
    ),
)
def health(request: HttpRequest) -> HttpResponse:
    database, writable = _database_state()
    if database == "ok":
        return JsonResponse({"status": "ok", "database": "ok", "writable": True}, status=200)
    response = JsonResponse(
        {"status": "degraded", "database": database, "writable": writable}, status=503
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class PingOut(Schema):
    status: str


@router.get(
    "/ping",
    response={200: PingOut},
    auth=None,
    summary="Liveness only: the process answers (no database)",
    description=(
        "200 `{status: ok}` from any running web process, without touching the database: for "
        "a load balancer's frequent checks (`/health` proves the database takes writes), and the "
        "stack's ceiling in `xinyue bench http` (the whole middleware chain, nothing else)."
    ),
)
def ping(request: HttpRequest) -> dict[str, str]:
    return {"status": "ok"}
