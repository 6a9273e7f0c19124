from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyue.core.clock import PLATFORM_TZ, month_bounds
from xinyue.core.money import fen_to_yuan, format_fen, yuan_to_fen


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("45.00", 4500),
        ("45", 4500),
        ("¥45.5", 4550),
        ("0.01", 1),
        ("1,234.56", 123456),
        (Decimal("9.90"), 990),
        (3, 300),
    ],
)
def test_yuan_to_fen_parses_prices(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize(
    "text", ["-1", "1.001", "abc", "", "NaN", "Infinity", True, None, "99999999999"]
)
def test_yuan_to_fen_refuses_bad_amounts(text):
    with pytest.raises(ValueError):  # noqa: PT011
        yuan_to_fen(text)


@given(st.integers(min_value=0, max_value=10**12))
def test_fen_round_trips_through_yuan(fen):
    assert yuan_to_fen(fen_to_yuan(fen)) == fen


def test_format_fen():
    assert format_fen(4500) == "¥45.00"
    assert format_fen(7) == "¥0.07"


def test_month_bounds_are_in_shanghai_time():
    start, end = month_bounds(2026, 12)
    assert start == dt.datetime(2026, 12, 1, tzinfo=PLATFORM_TZ)
    assert end == dt.datetime(2027, 1, 1, tzinfo=PLATFORM_TZ)
    assert start.utcoffset() == dt.timedelta(hours=8)
