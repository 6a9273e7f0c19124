"""Rate limits counted in process and sent to the shared counter in batches
(``core.throttling.LocalCounts``): a request costs no statement until its batch is full, the
limit still refuses across processes, and a window never admits more than
``limit + processes × batch − 1``. Two ``LocalCounts`` are two web processes: each knows only
what it admitted itself and what the shared counter answered."""

from __future__ import annotations

import random

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.core.models import SharedCounter
from xinyue.core.throttling import LocalCounts, batch_for

KEY = "rl:test:60:1"


def shared_count() -> int:
    row = SharedCounter.objects.filter(key=KEY).first()
    return row.count if row else 0


@pytest.fixture
def batch_of_5(settings):
    settings.XINYUE_API_RATE_BATCH = 5
    return 5


def test_the_batch_is_a_twentieth_of_the_limit_at_most(settings):
    settings.XINYUE_API_RATE_BATCH = 20
    assert [batch_for(n) for n in (3, 39, 40, 100, 600, 6000)] == [1, 1, 2, 5, 20, 20]


@pytest.mark.django_db
def test_hits_reach_the_shared_counter_once_per_batch(batch_of_5):
    process = LocalCounts()
    with CaptureQueriesContext(connection) as queries:
        assert all(process.admit(KEY, limit=100, seconds=60) for _ in range(12))
    assert len(queries) == 2  # after the 5th and the 10th hit
    assert shared_count() == 10  # the last two wait for the next batch


@pytest.mark.django_db
def test_a_caller_with_fewer_hits_than_a_batch_writes_nothing(batch_of_5):
    # An order now and then (a reader's typical rate) costs no write: no batch, no timer.
    process = LocalCounts()
    with CaptureQueriesContext(connection) as queries:
        assert all(process.admit(KEY, limit=100, seconds=60) for _ in range(4))
    assert len(queries) == 0
    assert shared_count() == 0


@pytest.mark.django_db
def test_a_small_limit_is_counted_exactly_across_processes(settings):
    settings.XINYUE_API_RATE_BATCH = 20
    first, second = LocalCounts(), LocalCounts()
    answers = [p.admit(KEY, limit=3, seconds=60) for p in (first, second, first, second)]
    assert answers == [True, True, True, False]
    assert shared_count() == 4  # the refused hit is counted too, as it always was


@pytest.mark.django_db
def test_a_stale_process_admits_at_most_one_batch_past_the_limit(batch_of_5):
    stale, busy = LocalCounts(), LocalCounts()
    assert stale.admit(KEY, limit=100, seconds=60)  # knows nothing of the shared count yet
    admitted_by_busy = 0
    while busy.admit(KEY, limit=100, seconds=60):
        admitted_by_busy += 1
    assert admitted_by_busy == 100  # it never saw the stale process's unsent hit
    admitted_by_stale = 1
    while stale.admit(KEY, limit=100, seconds=60):
        admitted_by_stale += 1
    # Its batch of 5 was sent on the 5th hit; the answer (105) stopped it.
    assert admitted_by_stale == 5
    assert shared_count() == 105
    assert 105 <= 100 + 2 * 5 - 1
    assert not busy.admit(KEY, limit=100, seconds=60)  # every process refuses now


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_interleaved_processes_stay_within_the_bound_and_never_refuse_early(batch_of_5, seed):
    rng = random.Random(seed)
    processes = [LocalCounts() for _ in range(3)]
    limit = 100
    admitted = 0
    first_refusal_at = None
    for _ in range(400):
        if rng.choice(processes).admit(KEY, limit=limit, seconds=60):
            admitted += 1
        elif first_refusal_at is None:
            first_refusal_at = admitted
    assert first_refusal_at is not None
    assert first_refusal_at >= limit  # never refused below the limit
    assert limit <= admitted <= limit + len(processes) * 5 - 1
    # Every process refuses once it has exchanged with the shared counter.
    assert not any(p.admit(KEY, limit=limit, seconds=60) for p in processes for _ in range(6))


@pytest.mark.django_db
def test_a_window_that_is_over_starts_from_nothing(batch_of_5):
    process = LocalCounts()
    while process.admit(KEY, limit=10, seconds=60):
        pass
    assert process.admit("rl:test:60:2", limit=10, seconds=60)  # the next window's key
