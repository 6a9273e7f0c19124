"""``core.rows.one_row``: a raw row as ``Model.objects.raw`` would give it, for the hot reads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from xinyue.core.models import SharedCounter
from xinyue.core.rows import one_row, row_where

pytestmark = pytest.mark.django_db

TABLE = SharedCounter._meta.db_table


@pytest.fixture
def counter() -> SharedCounter:
    expires = timezone.now().replace(microsecond=0) + dt.timedelta(hours=1)
    return SharedCounter.objects.create(key="k1", count=7, expires_at=expires)


def test_a_row_is_the_instance_raw_gives(counter):
    sql = f'SELECT * FROM {TABLE} WHERE "key" = %s'
    fast = one_row(SharedCounter, sql, ["k1"])
    slow = next(iter(SharedCounter.objects.raw(sql, ["k1"])))
    assert (fast.key, fast.count, fast.expires_at) == (slow.key, slow.count, slow.expires_at)
    assert fast.expires_at == counter.expires_at  # converted: an aware datetime on SQLite too
    assert timezone.is_aware(fast.expires_at)
    assert fast._state.adding is False


def test_unselected_fields_are_deferred_and_other_columns_become_attributes(counter):
    row = one_row(SharedCounter, f'SELECT "key", "count" + 1 AS next_count FROM {TABLE}', [])
    assert row.get_deferred_fields() == {"count", "expires_at"}
    assert row.next_count == 8
    assert row.count == 7  # a deferred field still loads when touched


def test_no_row_is_none_and_a_row_without_its_key_is_refused(counter):
    assert row_where(SharedCounter, '"key" = %s', ["nobody"]) is None
    with pytest.raises(ValueError, match="primary key"):
        one_row(SharedCounter, f'SELECT "count" FROM {TABLE}', [])
