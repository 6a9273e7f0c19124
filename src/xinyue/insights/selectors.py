"""Reads over the raw events: the search terms readers type, and those that find nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Max, Q

from xinyue.accounts.permissions import require_operator
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.insights.models import Event, EventType
from xinyue.readers.masking import redact_search_term


@dataclass(frozen=True)
class TermCount:
    term: str
    count: int
    zero_results: int
    last_at: dt.datetime


def search_terms(
    *, actor: Actor, start: dt.datetime, end: dt.datetime, zero_only: bool = False, limit: int = 50
) -> list[TermCount]:
    """Normalised search terms in [start, end) by count, most frequent first.

    ``zero_only``: only the searches that found nothing (for acquisition: what readers want
    and the catalog lacks), counted by how often they found nothing.
    """
    require_operator(actor)
    events = Event.objects.filter(type=EventType.SEARCH, at__gte=start, at__lt=end).exclude(
        query=""
    )
    if zero_only:
        events = events.filter(result_count=0)
    rows = (
        events.values("query")
        .annotate(
            count=Count("id"),
            zero=Count("id", filter=Q(result_count=0)),
            last_at=Max("at"),
        )
        .order_by("-count", "query")[:limit]
    )
    return [
        TermCount(
            term=redact_search_term(r["query"]),
            count=r["count"],
            zero_results=r["zero"],
            last_at=r["last_at"],
        )
        for r in rows
    ]


def search_totals(*, actor: Actor, start: dt.datetime, end: dt.datetime) -> dict[str, int]:
    require_operator(actor)
    return Event.objects.filter(type=EventType.SEARCH, at__gte=start, at__lt=end).aggregate(
        searches=Count("id"), zero_results=Count("id", filter=Q(result_count=0))
    )


POPULAR_CACHE_KEY = "insights:popular-search-terms"
POPULAR_CACHE_SECONDS = 600


def popular_search_terms(*, days: int = 30, limit: int = 8) -> list[str]:
    """What readers searched most lately and found (suggestions on the portal); public,
    aggregated, cached for ten minutes so that a busy portal never rescans the events."""
    terms = cache.get(POPULAR_CACHE_KEY)
    if terms is None:
        start = clock.now() - dt.timedelta(days=days)
        terms = list(
            Event.objects.filter(type=EventType.SEARCH, at__gte=start, result_count__gt=0)
            .exclude(query="")
            .values("query")
            .annotate(count=Count("id"))
            .order_by("-count", "query")
            .values_list("query", flat=True)[:limit]
        )
        cache.set(POPULAR_CACHE_KEY, terms, POPULAR_CACHE_SECONDS)
    return terms
