"""Popularity: what readers did with a title lately, decayed over time.

``Title.popularity`` orders the search index (``plan.docid``: popular titles first, so a common
word's window holds the titles readers want) and, with recency, orders titles within a
relevance tier (``selectors.search``). ``refresh_popularity`` recomputes it once a day (the
periodic task in ``catalog.tasks``) from the interest signals of the last ``HORIZON_DAYS``:
each signal weighs ``weight × ½^(age in days / HALF_LIFE_DAYS)``.

The facts live in different apps: shelf adds in catalog, detail views in insights, order lines
in orders, loans in circulation — all but the first above catalog in the app order. Each app
registers a *source* here in its ``AppConfig.ready`` (docs/architecture.md, "Hooks"): a
function that counts its own facts per title and day. Catalog never imports them, and no app
reads another's tables.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db.models import Count
from django.db.models.functions import TruncDate

from xinyue.catalog.models import ShelfEntry, Title
from xinyue.catalog.services.indexing import store_popularity
from xinyue.core import clock
from xinyue.core.hooks import Hook

HALF_LIFE_DAYS = 30
HORIZON_DAYS = 180  # a signal older than this weighs < 2 % and is not read
SCALE = 10  # points of one detail view today (keeps decayed values apart as integers)

# A source: (title id, local day, count) rows for the facts since ``since``.
SourceCounts = Callable[..., Iterable[tuple[int, dt.date, int]]]


@dataclass(frozen=True)
class Source:
    """A signal of interest: ``counts(since=<aware datetime>)`` yields (title id, local day,
    count); each counts ``weight`` detail views."""

    weight: int
    counts: SourceCounts

    def __post_init__(self) -> None:
        if self.weight <= 0:
            raise ValueError("a popularity source needs a positive weight")


# Each app adds its signal under a name (catalog: shelf adds; orders, circulation, insights).
sources: Hook[Source] = Hook("catalog.popularity_sources")


def shelf_adds(*, since: dt.datetime) -> Iterable[tuple[int, dt.date, int]]:
    """Catalog's own signal: titles put on a reader's bookshelf, per day."""
    return (
        ShelfEntry.objects.filter(added_at__gte=since)
        .annotate(day=TruncDate("added_at"))
        .values_list("title_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )


def decayed(*, age_days: int) -> float:
    return 0.5 ** (max(0, age_days) / HALF_LIFE_DAYS)


def title_interest(*, today: dt.date | None = None) -> dict[int, int]:
    """Popularity points per title from every registered source (titles without a signal in
    the horizon are left out)."""
    today = today or clock.today()
    since = clock.start_of_day(today - dt.timedelta(days=HORIZON_DAYS))
    points: dict[int, float] = {}
    for source in sources.values():
        for title_id, day, count in source.counts(since=since):
            if title_id is None or day is None:
                continue
            weight = source.weight * count * decayed(age_days=(today - day).days)
            points[title_id] = points.get(title_id, 0.0) + weight
    return {title_id: math.floor(SCALE * value + 0.5) for title_id, value in points.items()}


@dataclass(frozen=True)
class PopularityRefresh:
    titles_with_interest: int
    changed: int
    moved: int


def refresh_popularity(*, today: dt.date | None = None) -> PopularityRefresh:
    """Recompute every title's popularity from the signals and store what changed (titles whose
    signals all aged out go back to 0). Idempotent within a day: decay counts whole days."""
    interest = title_interest(today=today)
    wanted = dict(interest)
    for title_id in Title.objects.filter(popularity__gt=0).values_list("id", flat=True).iterator():
        wanted.setdefault(title_id, 0)
    changed, moved = store_popularity(popularity=wanted)
    return PopularityRefresh(titles_with_interest=len(interest), changed=changed, moved=moved)
