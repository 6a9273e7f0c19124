"""Shared counters (``core.counters``): one statement per hit, an expiry that restarts the count,
and a purge of expired keys only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinyue.core import counters
from xinyue.core.models import SharedCounter


@pytest.mark.django_db
def test_hits_count_per_key():
    assert [counters.hit("a", ttl_seconds=60) for _ in range(3)] == [1, 2, 3]
    assert counters.hit("b", ttl_seconds=60) == 1
    assert dict(SharedCounter.objects.values_list("key", "count")) == {"a": 3, "b": 1}


@pytest.mark.django_db
def test_an_expired_key_starts_again_with_a_new_expiry():
    counters.hit("a", ttl_seconds=60)
    counters.hit("a", ttl_seconds=60)
    past = timezone.now() - dt.timedelta(seconds=1)
    SharedCounter.objects.filter(key="a").update(expires_at=past)
    assert counters.hit("a", ttl_seconds=60) == 1
    row = SharedCounter.objects.get(key="a")
    assert row.count == 1
    assert row.expires_at > timezone.now() + dt.timedelta(seconds=50)
    assert counters.hit("a", ttl_seconds=60) == 2  # the new life counts on


@pytest.mark.django_db
def test_purge_drops_only_expired_keys():
    counters.hit("old", ttl_seconds=60)
    counters.hit("live", ttl_seconds=60)
    SharedCounter.objects.filter(key="old").update(
        expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert counters.purge_expired() == 1
    assert list(SharedCounter.objects.values_list("key", flat=True)) == ["live"]
