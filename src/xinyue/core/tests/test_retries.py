"""Retries written once (``core.retries``): the back-off tables of webhooks, credit orders and
the sandbox's notifications, the give-up, and re-enqueueing through the Tasks API (Huey in
immediate mode keeps the schedule; ``run_scheduled_tasks`` plays the worker when time comes)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django_tasks import task
from huey.contrib.djhuey import HUEY

from xinyue.core.retries import Backoff, retry_later
from xinyue.core.testing import run_scheduled_tasks
from xinyue.credit.sandbox.gateway import BACKOFF as SANDBOX_NOTIFICATIONS
from xinyue.credit.services.orders import BACKOFF as CREDIT_ORDERS
from xinyue.libraries.services import webhook_backoff


def runs() -> list[int]:
    """What ``flaky`` did, kept in the cache: the worker may import this module under another
    name than pytest did, so a module-level list would not be shared."""
    return cache.get("test_retries.runs", [])


@task()
def flaky(job_id: int) -> None:
    """Fails (and retries) until it has run three times."""
    cache.set("test_retries.runs", [*runs(), job_id])
    failures = len(runs())
    if failures < 3:
        retry_later(
            flaky, backoff=Backoff(steps=(10, 20), max_attempts=5), failures=failures, job_id=job_id
        )


def test_doubling_to_a_cap_then_the_cap():
    backoff = Backoff.doubling(30, cap=3600, max_attempts=12)
    assert [backoff.delay(n) for n in range(1, 13)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
        3600,
        3600,
        None,
    ]


def test_the_webhook_table_and_its_setting(settings):
    assert [webhook_backoff().delay(n) for n in range(1, 9)] == [
        30,
        60,
        120,
        240,
        480,
        960,
        1920,
        None,
    ]
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    assert [webhook_backoff().delay(n) for n in range(1, 4)] == [30, 60, None]


def test_the_credit_order_table_repeats_its_last_step_and_gives_up_after_22_attempts():
    delays = [CREDIT_ORDERS.delay(n) for n in range(1, 23)]
    assert delays[:8] == [30, 60, 120, 300, 900, 1800, 3600, 3600]
    assert delays[20] == 3600
    assert delays[21] is None
    assert CREDIT_ORDERS.gives_up(22)
    assert not CREDIT_ORDERS.gives_up(21)


def test_the_sandbox_follows_alipay_spacing():
    assert [SANDBOX_NOTIFICATIONS.delay(n) for n in range(1, 9)] == [
        240,
        600,
        600,
        3600,
        7200,
        21600,
        54000,
        None,
    ]


def test_a_retry_needs_a_failure():
    with pytest.raises(ValueError, match="at least one failed attempt"):
        Backoff(steps=(1,), max_attempts=2).delay(0)


@pytest.mark.django_db
def test_retry_later_enqueues_after_the_delay_and_gives_up(django_capture_on_commit_callbacks):
    def worker(seconds: int) -> int:
        with django_capture_on_commit_callbacks(execute=True):
            return run_scheduled_tasks(after=dt.timedelta(seconds=seconds))

    HUEY.flush()
    cache.delete("test_retries.runs")
    with django_capture_on_commit_callbacks(execute=True):
        flaky.enqueue(job_id=7)  # immediate mode: the first run happens now, and fails
    assert runs() == [7]
    assert worker(9) == 0  # not before 10 s
    assert worker(10) == 1
    assert runs() == [7, 7]
    assert worker(19) == 0  # the second step: 20 s
    assert worker(20) == 1
    assert runs() == [7, 7, 7]  # succeeded on the third run: nothing more is scheduled
    assert worker(86400) == 0


def test_retry_later_enqueues_nothing_once_the_back_off_gives_up():
    HUEY.flush()
    backoff = Backoff(steps=(10,), max_attempts=2)
    assert retry_later(flaky, backoff=backoff, failures=2, job_id=1) is None
    assert HUEY.scheduled_count() == 0
