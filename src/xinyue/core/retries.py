"""Retries written once: a back-off table and re-enqueueing a Django Task after its delay.

A job that talks to the outside (a webhook, a provider call, circulation's credit sync) tries
once; when the attempt failed and should be tried again it calls ``retry_later``, which looks
the delay up in the job's ``Backoff`` and enqueues the same task with ``run_after`` through the
Tasks API (Huey keeps the schedule; nothing here waits or loops). The attempt count lives in the
job's own row, so a retry survives a restart and two workers never count twice.

Why not Huey's own ``retries=``: it bypasses the Tasks API (``docs/decisions.md``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from xinyue.core import clock


@dataclass(frozen=True)
class Backoff:
    """When to try again after ``failures`` failed attempts, and when to give up.

    ``steps[n - 1]`` seconds after the n-th failure (the last step repeats); no retry once
    ``max_attempts`` attempts have been made."""

    steps: tuple[int, ...]
    max_attempts: int

    @classmethod
    def doubling(cls, first: int, *, cap: int, max_attempts: int) -> Backoff:
        """``first``, 2×, 4× … seconds, never more than ``cap``."""
        steps = [first]
        while steps[-1] < cap and len(steps) < max_attempts:
            steps.append(min(steps[-1] * 2, cap))
        return cls(steps=tuple(steps), max_attempts=max_attempts)

    def gives_up(self, failures: int) -> bool:
        return failures >= self.max_attempts

    def delay(self, failures: int) -> int | None:
        """Seconds to wait after ``failures`` failed attempts; None: give up."""
        if failures < 1:
            raise ValueError("a retry follows at least one failed attempt")
        if self.gives_up(failures):
            return None
        return self.steps[min(failures, len(self.steps)) - 1]


def retry_later(task: Any, *, backoff: Backoff, failures: int, **kwargs: Any) -> float | None:
    """Enqueue ``task(**kwargs)`` again after the back-off for ``failures`` failed attempts.

    Returns the delay in seconds, or None (nothing enqueued) when the back-off gives up.
    ``task`` is a Django Task (``@task``); call this after the failure is committed (from a
    task body, or in ``transaction.on_commit``)."""
    delay = backoff.delay(failures)
    if delay is None:
        return None
    task.using(run_after=clock.now() + dt.timedelta(seconds=delay)).enqueue(**kwargs)
    return float(delay)
