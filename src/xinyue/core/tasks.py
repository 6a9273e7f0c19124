"""Platform housekeeping schedules."""

from __future__ import annotations

import os

from django_tasks import task

from xinyue.core import audit
from xinyue.core.actors import SYSTEM
from xinyue.core.idempotency import purge_expired_records
from xinyue.core.schedules import crontab, periodic


@periodic(crontab(minute="17", hour="3"))
def purge_idempotency_records() -> int:
    """Idempotency keys are kept for ``IDEMPOTENCY_TTL_HOURS``; then they may be reused."""
    return purge_expired_records()


@task()
def probe_worker(*, run: str, number: int) -> None:
    """A probe job for ``xinyue check-workers``: leaves one audit row per execution."""
    audit.record(
        actor=SYSTEM,
        action="worker.probe",
        object_type="probe",
        object_id=f"{run}:{number}",
        pid=os.getpid(),
    )
