"""Recording usage events: one call per fact, written in batches (see ``buffer``).

``record_event`` is called by the portal pages (every search, every title detail view, every
page) and by anything else that observes a reader; ``ingest_events`` takes the batches channel
apps send to ``POST /api/v1/events`` and writes each batch with one bulk insert.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, clock, counters
from xinyue.core.actors import Actor, Channel
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import Action, require, require_operator
from xinyue.insights.buffer import EventBuffer
from xinyue.insights.models import Event, EventType, SearchTermRule
from xinyue.readers.masking import redact_search_term

MAX_BATCH = 1000
PATH_MAX = 300
QUERY_MAX = 200
# Events older than this, or this far in the future, are refused from clients (clock skew is
# allowed; back-filling last year's traffic is not what the events API is for).
MAX_PAST = dt.timedelta(days=7)
MAX_FUTURE = dt.timedelta(minutes=10)
CHANNELS = frozenset(c.value for c in Channel)


def normalize_term(query: str) -> str:
    """The search term as the report counts it: the engine's normalisation, PII masked, cut to
    fit."""
    from xinyue.catalog.search.text import normalize_query

    return redact_search_term(normalize_query(query))[:QUERY_MAX]


# The columns an event row is buffered as (a plain tuple: cheaper than a model instance).
COLUMNS = (
    "at",
    "type",
    "channel",
    "reader_id",
    "path",
    "query",
    "title_id",
    "result_count",
    "library_code",
    "client",
)
EventTuple = tuple[Any, ...]


def write_events(rows: Sequence[EventTuple]) -> None:
    """Insert rows (in ``COLUMNS`` order) in one transaction: ``COPY`` on PostgreSQL, one
    prepared INSERT run with ``executemany`` on SQLite.

    Hand-written on purpose: ``bulk_create`` costs ~34 µs a row here (model instances, SQL
    compiled per 99-row slice under SQLite's parameter limit); these cost a few µs
    (docs/decisions.md, "Usage events: buffered, batched writes").
    """
    if not rows:
        return
    quote = connection.ops.quote_name
    table = quote(Event._meta.db_table)
    columns = ", ".join(quote(c) for c in COLUMNS)
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        # SQLite: what Django's adapter does (naive text in the connection's zone), minus its
        # per-value checks: only aware datetimes reach here.
        zone = connection.timezone
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * len(COLUMNS))})",
            [(str(row[0].astimezone(zone).replace(tzinfo=None)), *row[1:]) for row in rows],
        )


# A buffered event: its row, and for a search the key of its once-per-searcher claim ("" for
# none). The claims are decided when the batch is written (``write_buffered``).
Buffered = tuple[EventTuple, str]


def write_buffered(items: Sequence[Buffered]) -> None:
    """Write a batch from the buffer: claim its searches' once-per-searcher keys with one
    statement (``core.counters``), drop each search whose claim someone made before (in this
    batch, another process's or an earlier one), and insert the rest, in one transaction — a
    failed insert gives the claims back, so the retried batch counts exactly the same searches.
    """
    claims: dict[str, int] = {}
    for _row, claim in items:
        if claim:
            claims[claim] = 1
    with transaction.atomic():
        counts: dict[str, int] = {}
        if claims:
            try:
                with transaction.atomic():
                    counts = counters.add(claims, ttl_seconds=SEARCH_ONCE_SECONDS)
            except DatabaseError:
                pass  # no dedupe store: count the searches rather than lose them
        rows: list[EventTuple] = []
        for row, claim in items:
            if claim:
                if claims.get(claim) != 1 or counts.get(claim, 1) > 1:
                    continue  # a repeat within this batch, or claimed before
                claims[claim] = 0  # the first of this batch takes it
            rows.append(row)
        write_events(rows)


EVENTS: EventBuffer[Buffered] = EventBuffer(
    writer=write_buffered,
    batch_size=settings.XINYUE_EVENTS_BATCH_SIZE,
    max_age=settings.XINYUE_EVENTS_FLUSH_SECONDS,
    background=settings.XINYUE_EVENTS_FLUSH_THREAD,
)
# Nothing starts here: the flusher thread starts with the first event this process records
# (``EventBuffer.add``), and the exit flush is registered in InsightsConfig.ready.


def record_event(
    *,
    type: str,
    channel: str,
    at: dt.datetime | None = None,
    reader_id: int | None = None,
    path: str = "",
    query: str = "",
    title_id: int | None = None,
    result_count: int | None = None,
    library_code: str = "",
    client: str = "",
) -> None:
    """Buffer one event; it reaches the database with the next batch (≤ 1 s later).

    ``query`` must already be normalised (the search engine returns ``normalized_query``); an
    ID number, phone or card number in it is masked here, before it is buffered. Never raises on odd input from a page: an unknown type is a programming error and does.
    """
    _buffer(
        type=type,
        channel=channel,
        at=at,
        reader_id=reader_id,
        path=path,
        term=redact_search_term(query or "")[:QUERY_MAX],
        title_id=title_id,
        result_count=result_count,
        library_code=library_code,
        client=client,
    )


# Checked on every buffered event: the choices' list is rebuilt on each ``.values`` access.
EVENT_TYPES = frozenset(EventType.values)


def _buffer(
    *,
    type: str,
    channel: str,
    at: dt.datetime | None,
    reader_id: int | None,
    path: str,
    term: str,
    title_id: int | None,
    result_count: int | None,
    library_code: str,
    client: str,
    claim: str = "",
) -> None:
    """``term``: the search term as stored, already masked by the caller (once per event)."""
    if type not in EVENT_TYPES:
        raise ValueError(f"unknown event type {type!r}")
    row = (
        at or clock.now(),
        str(type),
        str(channel) if channel in CHANNELS else Channel.API.value,
        reader_id,
        (path or "")[:PATH_MAX],
        term,
        title_id,
        result_count,
        (library_code or "")[:12],
        (client or "")[:40],
    )
    EVENTS.add((row, claim))


# A searcher's repeats of a term within this long are refinements of one search (facets, sort,
# pages, the back button): counted once.
SEARCH_ONCE_SECONDS = 30 * 60


def record_search_event(
    *,
    channel: str,
    reader_id: int | None,
    client: str,
    path: str,
    query: str,
    result_count: int,
    page: int = 1,
) -> bool:
    """Record one search, once: a later page, or the same searcher (``client``) searching the
    same normalised term again within 30 minutes (with a facet, another sort) is the same
    search. The search is buffered with its claim; the claims of a batch are made in the shared
    counter (``core.counters``) when the batch is written, so they hold across web processes
    without a statement per request (``write_buffered``). Returns whether the search was
    buffered (a later page never is)."""
    term = redact_search_term(query or "")[:QUERY_MAX]
    if not term or page > 1:
        return False
    claim = ""
    if client:
        digest = hashlib.sha256(f"{client}|{term}".encode()).hexdigest()[:32]
        claim = f"search-once:{digest}"
    _buffer(
        type=EventType.SEARCH,
        channel=channel,
        at=None,
        reader_id=reader_id,
        path=path,
        term=term,
        title_id=None,
        result_count=result_count,
        library_code="",
        client=client,
        claim=claim,
    )
    return True


def flush_events() -> int:
    """Write every buffered event now (tests, commands, shutdown)."""
    return EVENTS.flush()


@dataclass(frozen=True)
class IngestResult:
    accepted: int


def ingest_events(*, actor: Actor, events: Sequence[dict[str, Any]]) -> IngestResult:
    """Validate a client's batch (≤ 1000) and write it with one bulk insert, or refuse it whole.

    Each item: ``type`` (page_view|search|click), ``at`` (aware datetime), ``channel``, and
    optional ``path``, ``query`` (normalised here), ``title_id``, ``result_count``. A reader's
    events are attributed to that reader; a library's key's to that library.
    """
    require(actor, Action.REPORT_USAGE, message=_("书商不能上报阅读行为"))
    if len(events) > MAX_BATCH:
        raise InvalidInput(fields={"events": _("每批最多 %(n)d 条") % {"n": MAX_BATCH}})
    now = clock.now()
    library_code = _library_code(actor)
    errors: dict[str, str] = {}
    rows: list[EventTuple] = []
    for index, item in enumerate(events):
        at = item["at"]
        if at.tzinfo is None:
            errors[f"{index}.at"] = _("时间须带时区")
        elif at < now - MAX_PAST or at > now + MAX_FUTURE:
            errors[f"{index}.at"] = _("时间超出可接受范围（过去 7 天内）")
        if item["type"] == EventType.SEARCH and not (item.get("query") or "").strip():
            errors[f"{index}.query"] = _("搜索事件须带检索词")
        if item["type"] == EventType.CLICK and item.get("title_id") is None:
            errors[f"{index}.title_id"] = _("点击事件须带书目")
        if errors:
            continue
        query = item.get("query") or ""
        rows.append(
            (
                at,
                item["type"],
                item["channel"],
                actor.reader_id,
                (item.get("path") or "")[:PATH_MAX],
                normalize_term(query) if query else "",
                item.get("title_id"),
                item.get("result_count"),
                library_code,
                f"r{actor.reader_id}" if actor.reader_id else "",
            )
        )
    if errors:
        raise InvalidInput(fields=errors)
    write_events(rows)
    return IngestResult(accepted=len(rows))


def _library_code(actor: Actor) -> str:
    if actor.library_id is None:
        return ""
    from xinyue.libraries.models import Library

    return Library.objects.filter(pk=actor.library_id).values_list("code", flat=True).first() or ""


def erase_reader_events(*, actor: Actor, reader: Any) -> None:
    """Account deletion: the reader's events stay counted, no longer theirs."""
    flush_events()
    Event.objects.filter(reader_id=reader.pk).update(reader_id=None)


def _moderation_changed() -> None:
    from xinyue.insights.selectors import forget_popular_terms

    transaction.on_commit(forget_popular_terms)


def _rule_term(term: str, field: str) -> str:
    cleaned = normalize_term(term or "")
    if not cleaned:
        raise InvalidInput(fields={field: _("请输入检索词")})
    return cleaned


def hide_search_term(*, actor: Actor, term: str) -> SearchTermRule:
    """Keep ``term`` out of the public hot searches (the report still counts it)."""
    require_operator(actor)
    term = _rule_term(term, "term")
    with transaction.atomic():
        rule, created = SearchTermRule.objects.get_or_create(
            kind=SearchTermRule.Kind.HIDDEN, term=term, defaults={"created_by": actor.label}
        )
        if created:
            audit.record(actor=actor, action="search_term.hidden", obj=rule, term=term)
            _moderation_changed()
    return rule


def block_search_word(*, actor: Actor, word: str) -> SearchTermRule:
    """Keep every term containing ``word`` out of the public hot searches."""
    require_operator(actor)
    word = _rule_term(word, "word")
    with transaction.atomic():
        rule, created = SearchTermRule.objects.get_or_create(
            kind=SearchTermRule.Kind.BLOCKED, term=word, defaults={"created_by": actor.label}
        )
        if created:
            audit.record(actor=actor, action="search_term.blocked", obj=rule, term=word)
            _moderation_changed()
    return rule


def remove_search_term_rule(*, actor: Actor, rule_id: int) -> None:
    """Lift a hidden term or a blocked word."""
    require_operator(actor)
    with transaction.atomic():
        rule = SearchTermRule.objects.select_for_update().filter(pk=rule_id).first()
        if rule is None:
            return
        audit.record(
            actor=actor, action="search_term.rule_removed", obj=rule, kind=rule.kind, term=rule.term
        )
        rule.delete()
        _moderation_changed()
