"""Time helpers: aware datetimes, the platform's zone (Asia/Shanghai), dates for due dates."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.utils import timezone

PLATFORM_TZ = ZoneInfo("Asia/Shanghai")


def now() -> dt.datetime:
    """The current instant, timezone-aware."""
    return timezone.now()


def local(moment: dt.datetime) -> dt.datetime:
    """``moment`` seen in Asia/Shanghai."""
    return moment.astimezone(PLATFORM_TZ)


def today() -> dt.date:
    """Today's date in Asia/Shanghai (not the server's zone)."""
    return local(now()).date()


def start_of_day(day: dt.date) -> dt.datetime:
    """Midnight at the start of ``day`` in Asia/Shanghai, as an aware datetime."""
    return dt.datetime.combine(day, dt.time.min, tzinfo=PLATFORM_TZ)


def month_bounds(year: int, month: int) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a calendar month in Asia/Shanghai."""
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start_of_day(start), start_of_day(end)
