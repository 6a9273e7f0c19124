"""Platform housekeeping schedules."""

from __future__ import annotations

from xinyue.core.idempotency import purge_expired_records
from xinyue.core.schedules import crontab, periodic


@periodic(crontab(minute="17", hour="3"))
def purge_idempotency_records() -> int:
    """Idempotency keys are kept for ``IDEMPOTENCY_TTL_HOURS``; then they may be reused."""
    return purge_expired_records()
