"""Helpers for tests that drive the real background-work machinery (Huey in immediate mode)."""

from __future__ import annotations

import datetime as dt

from huey.contrib.djhuey import HUEY


def run_scheduled_tasks(*, after: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Run every task scheduled to run within ``after`` from now, as a worker would when the
    time comes; returns how many ran. Tasks they schedule in turn wait for the next call."""
    moment = HUEY._get_timestamp() + after
    due = HUEY.read_schedule(moment)
    for task in due:
        HUEY.execute(task, timestamp=moment)
    return len(due)
