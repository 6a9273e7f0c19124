"""Catalog search (DESIGN §7): keywords over title, authors, publisher, subjects and ISBN, in
Chinese (segmented words + bigram fallback + pinyin) and English, with advanced filters, facets,
three sort orders, pagination and highlighted matches. The same results on SQLite and PostgreSQL.

``search_titles`` never raises on user input: whatever is typed, the answer is a result page,
possibly empty.

Bounded work on common words. The index is ordered by ``docid``: popular titles first. A
query works inside its *window*, the first ``Limits.window`` (10,000) matches of its keywords
in that order (all of them when there are fewer), read in one pass: the filters of the database
(year, in stock) apply inside it; the total counts it (exact when the keywords match at most
that many titles, else flagged ``total_is_exact=False``, like Elasticsearch's default
``track_total_hits``); facets count its first ``Limits.facets`` titles; relevance orders its
first ``Limits.rank`` titles by tiers — the title is the query; every word is in the title; in
the title or the authors; anywhere — then shorter titles first, then index order; the rest of
the window follows in index order. The category and publisher filters are tokens of the index
itself, so they narrow the keywords' matches before the window. Everything is decided by which
titles match, never by an engine's own score, so both engines return the same results in the
same order.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Field
from django.db.models.base import ModelState

from xinyue.catalog.models import Category, Title
from xinyue.catalog.search.backends import get_backend
from xinyue.catalog.search.highlight import highlight
from xinyue.catalog.search.plan import (
    MAX_QUERY_CHARS,
    TITLE_AUTHOR_GROUP,
    TITLE_GROUP,
    TITLE_ID_MASK,
    Columns,
    Plan,
    Term,
    category_token,
    interest,
    make_plan,
    publisher_token,
)
from xinyue.catalog.search.text import fold, fold_han, normalize_query
from xinyue.core import clock, counters
from xinyue.core.microcache import MicroCache

SORTS = ("relevance", "newest", "popularity")


@dataclass(frozen=True)
class Limits:
    window: int = 10_000  # matches a query works on (and the largest exact total)
    facets: int = 300  # titles the facets count
    rank: int = 300  # titles ordered by relevance tiers


LIMITS = Limits()
FACET_TOP = 20
MAX_PAGE_SIZE = 100
HIGHLIGHT_FIELDS = ("title", "subtitle", "authors", "publisher", "subjects")


@dataclass
class SearchResult:
    total: int
    page: int
    page_size: int
    items: list[Title]
    facets: dict[str, list[tuple[Any, int]]]
    normalized_query: str
    sort: str = "relevance"
    total_is_exact: bool = True
    facets_are_exact: bool = True
    filters: dict[str, Any] = field(default_factory=dict)
    # The page's title ids in order and the terms to highlight (what ``items`` was read from).
    ids: tuple[int, ...] = ()
    highlight_terms: tuple[Term, ...] = ()

    @property
    def num_pages(self) -> int:
        return max(1, -(-self.total // self.page_size))

    @property
    def has_next(self) -> bool:
        return self.page < self.num_pages

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _int_or_none(value: Any, *, low: int = 0, high: int = 9999) -> int | None:
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if low <= number <= high else None


def _empty_facets() -> dict[str, list[tuple[Any, int]]]:
    return {"category": [], "year": [], "publisher": []}


@dataclass
class _CategoryTree:
    by_id: dict[int, Category] = field(default_factory=dict)
    by_name: dict[str, Category] = field(default_factory=dict)
    children: dict[int, list[int]] = field(default_factory=dict)


def _read_category_tree() -> _CategoryTree:
    tree = _CategoryTree()
    for category in Category.objects.all():
        tree.by_id[category.id] = category
        tree.by_name[category.name] = category
        tree.children.setdefault(category.parent_id or 0, []).append(category.id)
    for category in tree.by_id.values():
        if category.parent_id in tree.by_id:
            category.parent = tree.by_id[category.parent_id]
    return tree


# Kept per process while the catalog generation stands (every category created, changed or
# deleted through the services bumps it, see ``services.indexing.catalog_changed``), and for a
# minute at most: the safety net for a change made outside the services (a migration, the demo's
# loader).
CATEGORY_TREE: MicroCache[_CategoryTree] = MicroCache(
    ttl=lambda: 60.0, max_entries=1, generation=lambda: GENERATION.current()
)


def category_tree() -> _CategoryTree:
    """The category tree, without a statement on a search (see ``CATEGORY_TREE``)."""
    return CATEGORY_TREE.get_or_compute("tree", _read_category_tree)


def forget_category_tree() -> None:
    """Read the tree again on the next search (tests: a rolled-back database takes the
    generation back with it)."""
    CATEGORY_TREE.clear()


def _category_ids(name: str, tree: _CategoryTree) -> list[int] | None:
    """The category and its sub-categories; None when no category has that name."""
    category = tree.by_name.get(name.strip())
    if category is None:
        return None
    return [category.id, *tree.children.get(category.id, [])]


def search_titles(
    *,
    query: str = "",
    category: str | None = None,
    publisher: str | None = None,
    year_from: int | None = None,
    year_to: int | None = None,
    in_stock: bool = False,
    fields: Mapping[str, str] | None = None,
    sort: str = "relevance",
    page: int = 1,
    page_size: int = 20,
    limits: Limits = LIMITS,
    cached: bool = True,
    with_items: bool = True,
) -> SearchResult:
    """One result page. ``cached=False`` always runs the engine (the engine's benchmark); the
    page's titles are read fresh either way. ``with_items=False`` leaves ``items`` empty for a
    caller that reads the rows of ``ids`` itself (``item_rows``: the API's answer)."""
    query = normalize_query(query if isinstance(query, str) else "", limit=MAX_QUERY_CHARS)
    sort = sort if sort in SORTS else "relevance"
    page_size = _int_or_none(page_size, low=1, high=10**9) or 20
    page_size = min(page_size, MAX_PAGE_SIZE)
    page = _int_or_none(page, low=1, high=10**9) or 1
    page = min(page, -(-limits.window // page_size))
    year_from = _int_or_none(year_from)
    year_to = _int_or_none(year_to)
    filters: dict[str, Any] = {
        "category": (category if isinstance(category, str) else "").strip()[:40] or None,
        "publisher": (publisher if isinstance(publisher, str) else "").strip()[:120] or None,
        "year_from": year_from,
        "year_to": year_to,
        "in_stock": bool(in_stock),
    }
    fields = {
        str(name): normalize_query(str(value or ""), limit=MAX_QUERY_CHARS)
        for name, value in (fields.items() if isinstance(fields, Mapping) else ())
    }
    # Everything the engine's answer depends on, normalised: the cache's key.
    key = (query, *filters.values(), tuple(sorted(fields.items())), sort, page, page_size, limits)
    tree = category_tree()

    def find() -> _Hits:
        return _find(query, filters, fields, sort, page, page_size, limits, tree)

    # The "in stock" filter's choice of titles follows stock moves, which leave the generation
    # alone: those searches always ask the engine.
    hits = RESULTS.get_or_compute(key, find) if cached and not filters["in_stock"] else find()
    return SearchResult(
        total=hits.total,
        page=page,
        page_size=page_size,
        items=_load_items(list(hits.ids), hits.highlight_terms, tree) if with_items else [],
        facets={name: list(values) for name, values in hits.facets.items()},
        normalized_query=normalize_query(query),
        sort=sort,
        total_is_exact=hits.total_is_exact,
        facets_are_exact=hits.facets_are_exact,
        filters=filters,
        ids=hits.ids,
        highlight_terms=hits.highlight_terms,
    )


@dataclass(frozen=True)
class _Hits:
    """What a search found, the same for every caller and at every stock level: the page's
    title ids in order, the total and the facets (and the terms to highlight). This is what
    ``RESULTS`` keeps; the titles themselves are read fresh on every request."""

    total: int
    total_is_exact: bool
    facets_are_exact: bool
    facets: dict[str, tuple[tuple[Any, int], ...]]
    ids: tuple[int, ...]
    highlight_terms: tuple[Term, ...]


_NO_HITS = _Hits(
    total=0,
    total_is_exact=True,
    facets_are_exact=True,
    facets=dict.fromkeys(_empty_facets(), ()),
    ids=(),
    highlight_terms=(),
)


def _find(
    query: str,
    filters: dict[str, Any],
    fields: dict[str, str],
    sort: str,
    page: int,
    page_size: int,
    limits: Limits,
    tree: _CategoryTree,
) -> _Hits:
    """Run the engine: the page's title ids, the total and the facets."""
    plan = make_plan(query, fields or None)
    if plan.impossible:
        return _NO_HITS
    if filters["category"]:
        ids = _category_ids(filters["category"], tree)
        if ids is None:
            return _NO_HITS
        plan.filter_tokens.append([category_token(i) for i in ids])
    if filters["publisher"]:
        plan.filter_tokens.append([publisher_token(filters["publisher"])])

    # Conditions on catalog_title t that the index does not answer.
    conditions: list[str] = []
    params: list[Any] = []
    if filters["year_from"] is not None:
        conditions.append("t.year >= %s")
        params.append(filters["year_from"])
    if filters["year_to"] is not None:
        conditions.append("t.year <= %s")
        params.append(filters["year_to"])
    if filters["in_stock"]:
        conditions.append(
            "EXISTS (SELECT 1 FROM catalog_offer o WHERE o.title_id = t.id "
            "AND o.is_active AND o.stock > 0)"
        )
    if plan.isbn is not None:
        conditions.append("t.isbn13 = %s")
        params.append(plan.isbn.isbn13)

    offset = (page - 1) * page_size
    if plan.uses_index:
        found = _search_index(plan, conditions, params, sort, offset, page_size, limits, query)
    else:
        found = _search_titles_table(conditions, params, sort, offset, page_size, limits)
    total, total_exact, facet_rows, ids = found
    facets = _facets(facet_rows, tree)
    return _Hits(
        total=total,
        total_is_exact=total_exact,
        facets_are_exact=total_exact and len(facet_rows) >= total,
        facets={name: tuple(values) for name, values in facets.items()},
        ids=tuple(ids),
        highlight_terms=tuple(plan.highlight_terms),
    )


# --- the result cache -----------------------------------------------------------------------

# The catalog's generation: a shared counter every service that changes what a search can find
# bumps in its own transaction (``services.indexing.catalog_changed``).
GENERATION_KEY = "catalog.generation"


class _Generation:
    """This process's idea of the catalog generation, read again at most every
    ``XINYUE_SEARCH_GENERATION_CHECK_MS`` (one primary-key read) or at once after this process
    changed the catalog."""

    def __init__(self) -> None:
        self.value = 0
        self.read_at = -math.inf
        self.clock = time.monotonic

    def current(self) -> int:
        now = self.clock()
        if now - self.read_at >= settings.XINYUE_SEARCH_GENERATION_CHECK_MS / 1000:
            self.value = counters.value(GENERATION_KEY)
            self.read_at = now
        return self.value

    def forget(self) -> None:
        self.read_at = -math.inf


GENERATION: _Generation = _Generation()


def _weigh(hits: _Hits) -> int:
    """An entry's bytes, roughly (the objects it holds, not shared interned values)."""
    size = 400 + sys.getsizeof(hits.ids) + 32 * len(hits.ids)
    for values in hits.facets.values():
        size += sys.getsizeof(values) + sum(120 + sys.getsizeof(value) for value, _count in values)
    return size + sum(200 + sys.getsizeof(t.text) for t in hits.highlight_terms)


# Searches' hits (per normalised query, filters, sort and page), per process, valid while the
# catalog generation is unchanged and for at most ``XINYUE_SEARCH_CACHE_SECONDS`` (a safety
# net: every change a search can see bumps the generation). docs/decisions.md, "The search
# result cache".
RESULTS: MicroCache[_Hits] = MicroCache(
    ttl=lambda: settings.XINYUE_SEARCH_CACHE_SECONDS,
    max_entries=100_000,
    max_bytes=lambda: settings.XINYUE_SEARCH_CACHE_MB * 1024 * 1024,
    weigh=_weigh,
    generation=GENERATION.current,
)


_SORT_SQL = {
    "newest": "t.year DESC NULLS LAST, t.id DESC",
    "popularity": "t.popularity DESC, t.id DESC",
}


def _search_index(
    plan: Plan,
    conditions: list[str],
    params: list[Any],
    sort: str,
    offset: int,
    limit: int,
    limits: Limits,
    query: str,
) -> tuple[int, bool, list, list[int]]:
    backend = get_backend()
    src, docid = backend.source, backend.docid
    match, match_params = backend.match(plan)
    title_join = f"JOIN catalog_title t ON t.id = ({docid} & {TITLE_ID_MASK})"
    dense = backend.is_dense(plan)
    order = backend.order_for(plan, dense=dense)
    matching = f"SELECT {docid} AS docid FROM {src} WHERE {match}{backend.order_condition(order)}"
    in_order = f"{matching} ORDER BY {order}"
    in_order_below = f"{matching} AND {docid} < %s ORDER BY {order}"
    head_size = max(limits.facets, limits.rank)
    # Every match in index order, when one pass fetched them all (PostgreSQL, rarer words).
    everything: list[int] | None = None
    with connection.cursor() as cursor:

        def ids(sql: str, args: list[Any]) -> list[int]:
            cursor.execute(sql, args)
            return [row[0] for row in cursor.fetchall()]

        needs_end = bool(conditions) or sort in _SORT_SQL

        def window_end() -> int:
            return ids(f"{in_order} LIMIT 1 OFFSET %s", [*match_params, limits.window])[0]

        def head_ids(at_least: int) -> list[int]:
            # The first titles in index order, of at least ``at_least`` matches: from the
            # engine's postings where they answer the plan (PostgreSQL: frequent Latin and
            # Chinese terms), else below a docid bound when the engine offers one (backends:
            # ``head_bound``), again without it when the bound let fewer through.
            from_postings = backend.posted_matches(plan, head_size)
            if from_postings is not None:
                return from_postings
            bound = backend.head_bound(plan, order, matches=at_least, limit=head_size)
            if bound is not None:
                found = ids(f"{in_order_below} LIMIT %s", [*match_params, bound, head_size])
                if len(found) == head_size:
                    return found
            return ids(f"{in_order} LIMIT %s", [*match_params, head_size])

        end = None
        # What the engine knows without reading matches (PostgreSQL: the term table): their
        # exact number, or that the window is full; then nothing is counted or collected.
        known, exact = backend.known_matches(plan)
        full = known > limits.window
        posted = None
        if backend.collect_unordered and not dense and not (full or exact):
            # PostgreSQL: the matches in index order from postings of frequent words, where
            # the plan can be answered there for less than GIN's heap visits (backends):
            # counted up to the window and the match after it, and the head.
            posted = backend.posted_window(plan, limit=limits.window + 1, head=head_size)
        if posted is not None:
            matched, first, end = posted
        elif backend.collect_unordered and not dense and not (full or exact):
            # One pass over the matches in any order (the GIN bitmap), stopping after the
            # window: when that is all of them they are sorted here and nothing more is read
            # (ordering them in the database, then counting, reads every match twice).
            found = ids(
                f"SELECT {docid} FROM {src} WHERE {match} LIMIT %s",
                [*match_params, limits.window + 1],
            )
            matched = len(found)
            if matched <= limits.window:
                everything = sorted(found)
                first = everything[:head_size]
            else:
                first = head_ids(matched)
                end = window_end() if needs_end else None
        elif backend.collect_in_order(plan):
            # Every match up to the window and the one after it, in index order, in one pass.
            found = ids(f"{in_order} LIMIT %s", [*match_params, limits.window + 1])
            matched = len(found)
            everything = found[: limits.window]
            first = everything[:head_size]
            end = found[limits.window] if matched > limits.window else None
        else:
            # The first titles in index order; when they are all the matches, that is the count.
            first = head_ids(known)
            if len(first) < head_size:
                matched = len(first)
            elif backend.count_in_order:
                # How many match, up to the window, and where it ends: one pass, counted
                # inside the database (nothing fetched).
                cursor.execute(
                    f"SELECT count(*), max(w.docid) FROM ({in_order} LIMIT %s) w",
                    [*match_params, limits.window + 1],
                )
                matched, end = cursor.fetchone()
            else:
                if full or exact:
                    matched = min(known, limits.window + 1)
                else:
                    # Counting needs no order (PostgreSQL: see PostgresBackend.count_in_order).
                    cursor.execute(
                        f"SELECT count(*) FROM (SELECT 1 FROM {src} WHERE {match} LIMIT %s) w",
                        [*match_params, limits.window + 1],
                    )
                    (matched,) = cursor.fetchone()
                if matched > limits.window and needs_end:
                    end = window_end()
        total_exact = matched <= limits.window
        # "docid < window end" when the window cuts the matches
        bound_sql, bound_params = ("", []) if total_exact else (f" AND {docid} < %s", [end])

        if conditions:
            window = ids(
                f"SELECT {docid} FROM {src} {title_join} WHERE {match}{bound_sql} "
                f"AND {' AND '.join(conditions)} ORDER BY {backend.order}",
                [*match_params, *bound_params, *params],
            )
            total = len(window)

            def in_window(start: int, stop: int) -> list[int]:
                return window[start:stop]
        else:
            total = min(matched, limits.window)

            def in_window(start: int, stop: int) -> list[int]:
                stop = min(stop, total)
                if everything is not None:
                    return everything[start:stop]
                if stop <= len(first):
                    return first[start:stop]
                return ids(f"{in_order} LIMIT %s OFFSET %s", [*match_params, stop - start, start])

        ranking = sort == "relevance" and bool(plan.clauses)
        head = in_window(0, max(limits.facets, limits.rank if ranking else 0))
        rows = _head_rows(cursor, head, ranking=plan if ranking else None)
        facet_rows = [rows[d][1:4] for d in head[: limits.facets] if d in rows]

        if offset >= total:
            return total, total_exact, facet_rows, []
        if sort in _SORT_SQL:
            return (
                total,
                total_exact,
                facet_rows,
                ids(
                    f"SELECT t.id FROM {src} {title_join} WHERE {match}{bound_sql}"
                    + "".join(f" AND {c}" for c in conditions)
                    + f" ORDER BY {_SORT_SQL[sort]} LIMIT %s OFFSET %s",
                    [*match_params, *bound_params, *params, limit, offset],
                ),
            )
        ranked = _rank(plan, head[: limits.rank], rows, query) if ranking else []
        page = ranked[offset : offset + limit]
        if len(page) < limit:
            start = max(offset, len(ranked))
            page += in_window(start, start + limit - len(page))
    return total, total_exact, facet_rows, [d & TITLE_ID_MASK for d in page]


_TOKEN_COLUMNS = ("t", "a", "tg", "ag", "pt", "pa")  # the columns the relevance tiers read


def _tier_plans(plan: Plan) -> tuple[Plan, Plan]:
    """The plans of relevance tiers 1 and 2: every term in the title; in the title or the
    authors."""
    return plan.restricted(TITLE_GROUP), plan.restricted(TITLE_AUTHOR_GROUP)


def _head_rows(cursor: Any, docids: list[int], *, ranking: Plan | None) -> dict[int, tuple]:
    """(title, category_id, year, publisher, popularity[, tier tests]) of these documents, by
    docid. With ``ranking`` (the query's plan), what relevance's tiers 1 and 2 need to know
    of each document: whether it matches them, decided by the engine where it can
    (``tier_tests``, two booleans), else its token columns for ``Clause.matcher``."""
    backend = get_backend()
    tests = (
        backend.tier_tests(_tier_plans(ranking), rows=len(docids)) if ranking is not None else None
    )
    if tests is not None:
        extra, extra_params = f", {tests[0]}", tests[1]
    elif ranking is not None:
        extra, extra_params = "".join(f", d.{c}" for c in _TOKEN_COLUMNS), []
    else:
        extra, extra_params = "", []
    out: dict[int, tuple] = {}
    for start in range(0, len(docids), 900):
        among, among_params = backend.any_of("d.docid", docids[start : start + 900])
        cursor.execute(
            f"SELECT d.docid, t.title, t.category_id, t.year, t.publisher, t.popularity{extra} "
            f"FROM catalog_searchdocument d JOIN catalog_title t ON t.id = d.title_id "
            f"WHERE {among}",
            [*extra_params, *among_params],
        )
        for row in cursor.fetchall():
            out[row[0]] = row[1:]
    return out


def _rank(plan: Plan, head: list[int], rows: dict[int, tuple], query: str) -> list[int]:
    """Relevance: the title is the query (tier 0); every term is in the title (1); in the title
    or the authors (2); anywhere (3); within a tier the titles readers want first (popularity
    and recency, ``plan.interest``), then shorter titles, then index order. Tiers 1 and 2 are
    decided with the index's matching rules — by the engine on the documents' vectors
    (PostgreSQL), or from their tokens by ``Clause.matcher`` (SQLite) — and interest from the
    title's row, so both engines order alike.

    Tier 0 folds a title's Han characters (OpenCC, the costly step) only when its folded
    length, spaces left out, is the query's: ``fold_han`` keeps every string's length (each of
    OpenCC's t2s entries maps to a string as long as itself; ``test_engine_text`` checks every
    CJK character), so no other title can equal the query."""
    this_year = clock.today().year
    title_plan, title_author_plan = _tier_plans(plan)
    in_title = title_plan.matcher()
    in_title_or_authors = title_author_plan.matcher()
    wanted = fold_han(fold(query)).replace(" ", "")
    size = len(wanted)

    def tested(tokens: tuple) -> tuple[bool, bool]:
        if len(tokens) == 2:  # the engine's tests (``_head_rows``)
            return bool(tokens[0]), bool(tokens[1])
        t, a, tg, ag, pt, pa = tokens
        columns = Columns(
            t=f" {t or ''} ",
            a=f" {a or ''} ",
            tg=f" {tg or ''} ",
            ag=f" {ag or ''} ",
            pt=f" {pt or ''} ",
            pa=f" {pa or ''} ",
        )
        if in_title(columns):
            return True, True
        return False, in_title_or_authors(columns)

    def key(d: int) -> tuple:
        row = rows.get(d)
        if row is None:
            return (4, 0, d)
        title = row[0] or ""
        folded = fold(title) if size else ""
        if (
            size
            and len(folded) - folded.count(" ") == size
            and fold_han(folded).replace(" ", "") == wanted
        ):
            tier = 0
        else:
            title_only, title_or_authors = tested(row[5:])
            tier = 1 if title_only else 2 if title_or_authors else 3
        wanted_by_readers = interest(popularity=row[4] or 0, year=row[2], this_year=this_year)
        return (tier, -round(wanted_by_readers, 6), len(title), d)

    return sorted(head, key=key)


def _search_titles_table(
    conditions: list[str],
    params: list[Any],
    sort: str,
    offset: int,
    limit: int,
    limits: Limits,
) -> tuple[int, bool, list, list[int]]:
    """No keywords and no index filter: browse the active titles (most popular first)."""
    where_sql = " AND ".join(["t.is_active", *conditions])
    order = _SORT_SQL.get(sort, _SORT_SQL["popularity"])
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT t.category_id, t.year, t.publisher FROM catalog_title t WHERE {where_sql} "
            f"ORDER BY t.popularity DESC, t.id DESC LIMIT %s",
            [*params, limits.facets],
        )
        facet_rows = cursor.fetchall()
        if len(facet_rows) < limits.facets:
            total = len(facet_rows)
        else:
            cursor.execute(
                f"SELECT count(*) FROM (SELECT 1 FROM catalog_title t WHERE {where_sql} "
                f"LIMIT %s) c",
                [*params, limits.window + 1],
            )
            total = cursor.fetchone()[0]
        total_exact = total <= limits.window
        total = min(total, limits.window)
        ids: list[int] = []
        if offset < total:
            cursor.execute(
                f"SELECT t.id FROM catalog_title t WHERE {where_sql} ORDER BY {order} "
                f"LIMIT %s OFFSET %s",
                [*params, min(limit, total - offset), offset],
            )
            ids = [row[0] for row in cursor.fetchall()]
    return total, total_exact, facet_rows, ids


def _facets(
    rows: list[tuple[Any, Any, Any]], tree: _CategoryTree
) -> dict[str, list[tuple[Any, int]]]:
    categories: Counter = Counter()
    years: Counter = Counter()
    publishers: Counter = Counter()
    for category_id, year, publisher in rows:
        if category_id is not None:
            categories[category_id] += 1
        if year is not None:
            years[year] += 1
        if publisher:
            publishers[publisher] += 1
    names = {c: tree.by_id[c].name for c in categories if c in tree.by_id}

    def top(counter: Counter, key=lambda v: v) -> list[tuple[Any, int]]:
        ordered = sorted(counter.items(), key=lambda kv: (-kv[1], key(kv[0])))
        return ordered[:FACET_TOP]

    return {
        "category": top(Counter({names[c]: n for c, n in categories.items() if c in names})),
        "year": top(years, key=lambda y: -y),
        "publisher": top(publishers),
    }


# The columns a result item shows (the API's ``TitleItemOut``, the page's item); the rest of the
# row (summary, timestamps) is neither read nor converted.
ITEM_COLUMNS = (
    "id",
    "isbn13",
    "title",
    "subtitle",
    "authors",
    "authors_display",
    "publisher",
    "year",
    "category_id",
    "list_price_fen",
    "subjects",
    "cover",
    "popularity",
    "is_active",
)
CATEGORY_INDEX = ITEM_COLUMNS.index("category_id")
_ITEMS_SQL = (
    f"SELECT {', '.join('t.' + c for c in ITEM_COLUMNS)}, EXISTS (SELECT 1 FROM catalog_offer o WHERE o.title_id = t.id "
    "AND o.is_active AND o.stock > 0) AS in_stock FROM catalog_title t WHERE t.id IN ({})"
)


def _converters() -> list[tuple[int, Any, list]]:
    """Per column of ``_ITEMS_SQL``, the database converters the ORM would apply (the JSON
    authors, SQLite's booleans): computed once per process and engine."""
    key = connection.vendor
    if key not in _CONVERTERS:
        out = []
        for index, name in enumerate(ITEM_COLUMNS):
            field = Title._meta.get_field(name)
            assert isinstance(field, Field)  # a concrete column of the title, never a relation
            column = field.get_col(Title._meta.db_table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                out.append((index, column, found))
        _CONVERTERS[key] = out
    return _CONVERTERS[key]


_CONVERTERS: dict[str, list[tuple[int, Any, list]]] = {}


def _title_from_row(values: list[Any], db: str) -> Title:
    """A ``Title`` with the item columns loaded (the rest deferred), as ``Model.from_db`` makes
    it, without its per-field ``__init__``: a fifth of a cached search's CPU went there."""
    title = Title.__new__(Title)
    title.__dict__.update(zip(ITEM_COLUMNS, values, strict=False))
    title._state = ModelState()
    title._state.adding = False
    title._state.db = db
    return title


@lru_cache(maxsize=4096)
def _highlights(
    title: str,
    subtitle: str,
    authors: str,
    publisher: str,
    subjects: str,
    isbn: str,
    terms: tuple[Term, ...],
) -> tuple[tuple[str, str], ...]:
    """An item's highlighted fields: pure, and the same item comes back with the same terms
    whenever its search is repeated (one cache lookup per item instead of six)."""
    fields = (title, subtitle, authors, publisher, subjects, isbn)
    return tuple(
        (name, highlight(value, terms)) for name, value in zip(HIGHLIGHT_KEYS, fields, strict=True)
    )


HIGHLIGHT_KEYS = ("title", "subtitle", "authors", "publisher", "subjects", "isbn")


def item_rows(ids: list[int]) -> list[tuple]:
    """The rows of a result page's titles as they are now (``ITEM_COLUMNS`` as the database
    gives them, then ``in_stock``), in the order of ``ids``; a title gone since is left out."""
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(_ITEMS_SQL.format(",".join(["%s"] * len(ids))), ids)
        by_id = {row[0]: row for row in cursor.fetchall()}
    return [by_id[i] for i in ids if i in by_id]


def title_from_item_row(row: tuple, terms: tuple[Term, ...], tree: _CategoryTree) -> Title:
    """One row of ``item_rows`` as a ``Title`` (the item columns loaded, the rest deferred) with
    ``in_stock``, its category (and the category's parent) from the cached tree, and
    ``highlights``."""
    values = list(row)
    for index, column, found in _converters():
        for convert in found:
            values[index] = convert(values[index], column, connection)
    item = _title_from_row(values, connection.alias)
    item.in_stock = bool(values[-1])
    category = tree.by_id.get(item.category_id) if item.category_id is not None else None
    if category is not None:
        item._state.fields_cache["category"] = category
    item.highlights = dict(
        _highlights(
            item.title,
            item.subtitle,
            item.authors_display,
            item.publisher,
            item.subjects,
            item.isbn13,
            terms,
        )
    )
    return item


def _load_items(ids: list[int], terms: tuple[Term, ...], tree: _CategoryTree) -> list[Title]:
    """The titles of a result page as they are now, in order (``title_from_item_row``)."""
    return [title_from_item_row(row, terms, tree) for row in item_rows(ids)]


def matches(*, query: str, title_id: int) -> bool:
    """Whether ``title_id`` is among the titles that ``query`` matches (recall checks)."""
    plan = make_plan(query)
    if plan.impossible or plan.is_empty:
        return False
    if plan.isbn is not None:
        return Title.objects.filter(id=title_id, isbn13=plan.isbn.isbn13, is_active=True).exists()
    return get_backend().contains(plan, title_id)
