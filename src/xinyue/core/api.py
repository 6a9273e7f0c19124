"""Platform-level operations: health."""

from __future__ import annotations

from django.db import DatabaseError, connection
from django.http import HttpRequest
from ninja import Router, Schema, Status

router = Router(tags=["health"])


class HealthOut(Schema):
    status: str
    database: str


@router.get(
    "/health",
    response={200: HealthOut, 503: HealthOut},
    auth=None,
    summary="Liveness and database check",
)
def health(request: HttpRequest) -> Status:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return Status(503, {"status": "degraded", "database": "unreachable"})
    return Status(200, {"status": "ok", "database": "ok"})
