"""Reads over the raw events: the search terms readers type, and those that find nothing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.db.models.functions import TruncDate

from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.permissions import require_operator
from xinyue.insights.models import Event, EventType, SearchTermRule
from xinyue.readers.masking import looks_like_pii, redact_search_term


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


def detail_views_per_title_and_day(*, since: dt.datetime) -> QuerySet:
    """(title id, local day, detail-page views) since ``since``: for the titles' popularity."""
    return (
        Event.objects.filter(type=EventType.CLICK, at__gte=since, title_id__isnull=False)
        .annotate(day=TruncDate("at"))
        .values_list("title_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )


def popular_search_terms(*, days: int = 30, limit: int = 8) -> list[str]:
    """大家都在搜: what readers searched most lately and found, for everyone to see — so only
    terms that at least ``XINYUE_HOT_SEARCH_MIN_CLIENTS`` distinct readers or clients searched
    (one person typing ``dygw`` a hundred times is not "everyone"), never a term that looks like
    personal data, never one the operator hid or that contains a blocked word. Ranked by distinct
    searchers; cached for ten minutes (dropped when the operator changes the rules)."""
    terms = cache.get(POPULAR_CACHE_KEY)
    if terms is None:
        start = clock.now() - dt.timedelta(days=days)
        candidates = (
            Event.objects.filter(type=EventType.SEARCH, at__gte=start, result_count__gt=0)
            .exclude(query="")
            .exclude(client="")
            .values("query")
            .annotate(clients=Count("client", distinct=True))
            .filter(clients__gte=settings.XINYUE_HOT_SEARCH_MIN_CLIENTS)
            .order_by("-clients", "query")
            .values_list("query", flat=True)[: limit * 5]
        )
        hidden, blocked = _moderation_rules()
        terms = [
            term
            for term in candidates
            if term not in hidden
            and not any(word in term for word in blocked)
            and not looks_like_pii(term)
        ][:limit]
        cache.set(POPULAR_CACHE_KEY, terms, POPULAR_CACHE_SECONDS)
    return terms


def forget_popular_terms() -> None:
    cache.delete(POPULAR_CACHE_KEY)


def _moderation_rules() -> tuple[set[str], list[str]]:
    hidden: set[str] = set()
    blocked: list[str] = []
    for kind, term in SearchTermRule.objects.values_list("kind", "term"):
        if kind == SearchTermRule.Kind.HIDDEN:
            hidden.add(term)
        else:
            blocked.append(term)
    return hidden, blocked


def search_term_rules(*, actor: Actor) -> list[SearchTermRule]:
    require_operator(actor)
    return list(SearchTermRule.objects.all())
