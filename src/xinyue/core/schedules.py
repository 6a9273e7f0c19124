"""Cron-style schedules declared in code, run by the Huey consumers (``xinyue worker``).

``@periodic(crontab(...))`` registers a Huey periodic task. Every consumer's scheduler fires it,
so the body first claims the (task, minute) slot in Huey's shared storage: with several workers
on one database the job still runs once per slot.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from huey import crontab
from huey.contrib.djhuey import HUEY, close_db

from xinyue.core import clock

__all__ = ["crontab", "periodic"]


def claim_slot(name: str) -> bool:
    """True for exactly one caller per task name and minute across every consumer."""
    slot = clock.now().strftime("%Y%m%d%H%M")
    return HUEY.storage.put_if_empty(f"xinyue.periodic.{name}.{slot}", b"1")


def periodic(
    schedule: Callable[[Any], bool], *, name: str | None = None
) -> Callable[[Callable[[], Any]], Any]:
    def decorator(fn: Callable[[], Any]) -> Any:
        task_name = name or f"{fn.__module__}.{fn.__name__}"

        @wraps(fn)
        def run_once() -> Any:
            if not claim_slot(task_name):
                return None
            return fn()

        # Huey prefixes the module itself: "xinyue.core.tasks.purge_idempotency_records".
        wrapped = HUEY.periodic_task(schedule, name=name or fn.__name__)(close_db(run_once))
        wrapped.call_local = fn
        return wrapped

    return decorator
