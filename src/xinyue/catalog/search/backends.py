"""The two engines behind one interface: SQLite FTS5 and PostgreSQL tsvector + GIN (plus a RUM
index for reading matches in index order, where the server has the extension).

Both compile the same ``Plan`` into their own syntax with the same meaning and store the same
tokens, so they match the same titles; the selector orders them the same way on both (index
order, relevance tiers), so both return the same results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from functools import lru_cache
from typing import Any, NamedTuple

from django.db import DatabaseError, connection, transaction

from xinyue.catalog.search.plan import (
    COLUMNS,
    FIELDS,
    MAX_COLUMN_TOKENS,
    Clause,
    Document,
    Plan,
    Term,
)
from xinyue.core.microcache import MicroCache

DOC_TABLE = "catalog_searchdocument"
FTS_TABLE = "catalog_search_fts"


def _fts_phrase(tokens: Sequence[str], *, prefix: bool = False) -> str:
    # Tokens hold only letters/digits of our own alphabet, but quote defensively anyway.
    body = " ".join(t.replace('"', '""') for t in tokens)
    return f'"{body}"' + ("*" if prefix else "")


_COLS = ", ".join(COLUMNS)
_NEW = ", ".join("new." + c for c in COLUMNS)
_OLD = ", ".join("old." + c for c in COLUMNS)
# The same triggers as migration 0005 (re-created after a bulk load).
SQLITE_TRIGGERS = [
    f"CREATE TRIGGER catalog_searchdocument_ai AFTER INSERT ON {DOC_TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.docid, {_NEW}); END",
    f"CREATE TRIGGER catalog_searchdocument_ad AFTER DELETE ON {DOC_TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.docid, {_OLD}); END",
    f"CREATE TRIGGER catalog_searchdocument_au AFTER UPDATE ON {DOC_TABLE} BEGIN "
    f"INSERT INTO {FTS_TABLE}({FTS_TABLE}, rowid, {_COLS}) VALUES ('delete', old.docid, {_OLD}); "
    f"INSERT INTO {FTS_TABLE}(rowid, {_COLS}) VALUES (new.docid, {_NEW}); END",
]


def _move_documents(moves: Mapping[int, int]) -> int:
    """Give documents a new ``docid`` (title id → docid), tokens unchanged; returns how many
    documents moved (titles without a document are skipped). On SQLite the update trigger moves
    the FTS row (PostgreSQL moves its postings too: ``PostgresBackend.move_documents``)."""
    moved = 0
    with connection.cursor() as cursor:
        for title_id, new_docid in moves.items():
            cursor.execute(
                f"UPDATE {DOC_TABLE} SET docid = %s WHERE title_id = %s", [new_docid, title_id]
            )
            moved += max(0, cursor.rowcount)
    return moved


class SqliteBackend:
    vendor = "sqlite"
    source = f"{FTS_TABLE} f"
    docid = "f.rowid"
    order = "f.rowid"  # FTS5 returns matches in rowid order: no sort
    count_in_order = True  # counting the window in rowid order costs nothing more
    collect_unordered = False  # FTS5 yields matches in rowid order anyway

    def is_dense(self, plan: Plan) -> bool:
        return False

    def order_for(self, plan: Plan, *, dense: bool | None = None) -> str:
        return self.order

    def order_condition(self, order: str) -> str:
        return ""

    def head_bound(self, plan: Plan, order: str, *, matches: int, limit: int) -> int | None:
        """FTS5 walks matches in rowid order and stops after ``limit``: no bound needed."""
        return None

    def known_matches(self, plan: Plan) -> tuple[int, bool]:
        """What the engine knows of the plan's matches without reading them: (a lower bound or
        the exact number, whether it is exact). FTS5 counts in rowid order for free."""
        return 0, False

    # A Latin prefix this short stands for many tokens (``zh``: every pinyin starting so), and
    # FTS5 merges all their doclists before it returns a first match, in every statement.
    short_prefix = 3

    def posted_matches(self, plan: Plan, limit: int) -> list[int] | None:
        """FTS5 reads its doclists without visiting the table: no postings of our own."""
        return None

    def posted_window(self, plan: Plan, *, limit: int, head: int) -> PostedWindow | None:
        """No postings of our own (``posted_matches``)."""
        return None

    def collect_in_order(self, plan: Plan) -> bool:
        """Whether to read the plan's matches up to the window in one ordered pass, rather than
        the head and then a count (each statement would merge a short prefix's doclists again:
        ``zh`` at 1 M 111 → 58 ms, ``introduction to physics`` 15 → 9 ms; a plain word's count
        costs less than fetching 10,001 ids: 中国 1.5 vs 4 ms)."""
        return any(c.term.prefix and len(c.term.text) <= self.short_prefix for c in plan.clauses)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load many documents at once: one transaction, no per-row index work; the FTS index is
        rebuilt from the documents at the end (much faster than row by row at a million), then
        the tables analysed."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                for name in ("ai", "ad", "au"):
                    cursor.execute(f"DROP TRIGGER IF EXISTS catalog_searchdocument_{name}")
            yield
            with connection.cursor() as cursor:
                cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('rebuild')")
                for statement in SQLITE_TRIGGERS:
                    cursor.execute(statement)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")  # the query planner's statistics of the new tables

    # ---- matching -------------------------------------------------------------------------
    @staticmethod
    def _clause(clause: Clause) -> str:
        """One clause as an FTS5 expression. Where the words and their fallback look for the
        same single token (a two-character word that is its own bigram; an English or pinyin
        prefix), the token is looked for once in the union of their columns: the same
        documents, but FTS5 reads its doclist once instead of once per alternative (中国 at
        1 M: counting the window 2.3 → 1.4 ms)."""
        term, group = clause.term, clause.group

        def columns(*names: tuple[str, ...]) -> str:
            return "{" + " ".join(c for part in names for c in part) + "}"

        words = columns(group.words)
        parts: list[str] = []
        if term.kind == "cjk":
            if len(term.text) == 1:
                parts.append(f"({words} : {_fts_phrase([term.text])})")
                if group.grams:
                    parts.append(
                        f"({columns(group.grams)} : {_fts_phrase([term.text], prefix=True)})"
                    )
            elif group.grams and term.words == term.grams == (term.text,):
                parts.append(f"({columns(group.words, group.grams)} : {_fts_phrase(term.grams)})")
            else:
                conj = " AND ".join(_fts_phrase([w]) for w in term.words)
                parts.append(f"({words} : ({conj}))")
                if group.grams:
                    parts.append(f"({columns(group.grams)} : {_fts_phrase(term.grams)})")
        elif term.kind == "latin" and term.prefix:
            searched = (group.words, group.pinyin) if term.pinyin else (group.words,)
            parts.append(f"({columns(*searched)} : {_fts_phrase([term.text], prefix=True)})")
        else:
            parts.append(f"({words} : {_fts_phrase([term.text])})")
        return "(" + " OR ".join(parts) + ")"

    def match_expression(self, plan: Plan) -> str:
        parts = [self._clause(c) for c in plan.clauses]
        for group in plan.filter_tokens:
            parts.append("({f} : (" + " OR ".join(_fts_phrase([t]) for t in group) + "))")
        return " AND ".join(parts)

    def match(self, plan: Plan) -> tuple[str, list]:
        """A WHERE condition on ``source`` selecting the documents the plan matches."""
        return f"{FTS_TABLE} MATCH %s", [self.match_expression(plan)]

    def any_of(self, expression: str, values: Sequence[int]) -> tuple[str, list]:
        """A condition that ``expression`` is one of ``values`` (at most 900: SQLite's limit of
        parameters per statement)."""
        return f"{expression} IN ({','.join(['%s'] * len(values))})", list(values)

    def tier_tests(self, plans: Sequence[Plan], *, rows: int) -> tuple[str, list] | None:
        """SQL giving, per document row ``d`` of ``rows``, whether it matches each of ``plans``:
        none here; the relevance tiers test the documents' token columns in Python
        (``Clause.matcher``)."""
        return None

    def contains(self, plan: Plan, title_id: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH %s AND rowid = "
                f"(SELECT docid FROM {DOC_TABLE} WHERE title_id = %s)",
                [self.match_expression(plan), title_id],
            )
            return cursor.fetchone() is not None

    # ---- writing --------------------------------------------------------------------------
    def delete_documents(self, title_ids: Sequence[int]) -> None:
        with connection.cursor() as cursor:
            for chunk in _chunks(title_ids, 500):
                marks = ",".join(["%s"] * len(chunk))
                cursor.execute(f"DELETE FROM {DOC_TABLE} WHERE title_id IN ({marks})", chunk)

    def insert_documents(self, rows: Iterable[tuple[int, int, Document]]) -> None:
        """Insert (title id, docid, document) rows; the triggers index them."""
        sql = (
            f"INSERT INTO {DOC_TABLE} (title_id, docid, {', '.join(COLUMNS)}) "
            f"VALUES (%s, %s, {', '.join(['%s'] * len(COLUMNS))})"
        )
        params = []
        for title_id, docid, doc in rows:
            cols = doc.columns()
            params.append([title_id, docid, *(cols[c] for c in COLUMNS)])
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)

    def move_documents(self, moves: Mapping[int, int]) -> int:
        return _move_documents(moves)

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {DOC_TABLE}")
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('delete-all')")

    def optimize(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"INSERT INTO {FTS_TABLE}({FTS_TABLE}) VALUES ('optimize')")


# PostgreSQL ----------------------------------------------------------------------------------

# Lexeme namespaces and weights, so that one tsvector carries the eight columns.
#   words  : no prefix   t→A a→B p→C s→D
#   grams  : "~"         tg→A ag→B (positions keep each column's order for phrase matching)
#   pinyin : "@"         pt→A pa→B
#   filters: "="         f
PG_COLUMN = {
    "t": ("", "A", 1),
    "a": ("", "B", 2001),
    "p": ("", "C", 4001),
    "s": ("", "D", 6001),
    "tg": ("~", "A", 8001),
    "ag": ("~", "B", 10001),
    "pt": ("@", "A", 12001),
    "pa": ("@", "B", 14001),
    "f": ("=", "D", 16001),
}
PG_COLUMN_SPAN = MAX_COLUMN_TOKENS  # < 2000: columns never overlap


def _pg_quote(lexeme: str) -> str:
    return "'" + lexeme.replace("\\", "\\\\").replace("'", "''") + "'"


def pg_vector_literal(doc: Document) -> str:
    positions: dict[str, list[str]] = {}
    for column in COLUMNS:
        prefix, weight, base = PG_COLUMN[column]
        for i, token in enumerate(getattr(doc, column)[:PG_COLUMN_SPAN]):
            entries = positions.setdefault(prefix + token, [])
            if len(entries) < 255:
                entries.append(f"{base + i}{weight}")
    return " ".join(f"{_pg_quote(lex)}:{','.join(pos)}" for lex, pos in positions.items())


def _weights(columns: Sequence[str], all_columns: Sequence[str]) -> str:
    if set(columns) == set(all_columns):
        return ""
    return "".join(sorted(PG_COLUMN[c][1] for c in columns))


# The vector column's statistics target (migration 0008): ANALYZE samples 300 × this many
# documents and keeps up to 10 × this many most common lexemes (``is_dense``: which plan reads
# the head; totals come from the term table). 23 s of ANALYZE at 1 M.
VECTOR_STATISTICS = 1000
GIN_INDEX = "catalog_searchdocument_vector"
RUM_INDEX = "catalog_searchdocument_rum"
GIN_INDEX_SQL = f"CREATE INDEX {GIN_INDEX} ON {DOC_TABLE} USING gin (vector)"
# RUM keeps each match's docid beside it in the posting lists, so ``ORDER BY docid <=> 0``
# returns matches in index order and a head of 300 reads 300 rows, not every match. It is
# partial on a condition every row meets (docids are positive) so that only a statement that
# states it — the ordered head, ``PostgresBackend.order_condition`` — can use it: left free to,
# the planner picks RUM for plain ``@@`` matching too, where an AND with a common word costs
# 136–155 ms against GIN's 0.5–12 ms (measured at 1 M).
RUM_CONDITION = "d.docid > 0"
RUM_INDEX_SQL = (
    f"CREATE INDEX {RUM_INDEX} ON {DOC_TABLE} USING rum (vector rum_tsvector_addon_ops, docid) "
    "WITH (attach = 'docid', to = 'vector') WHERE docid > 0"
)


# How many documents hold each lexeme of the vector column, exactly: kept by the backend's own
# writes in their transaction (``insert_documents``, ``delete_documents``, ``clear``; a move
# changes no token), filled by migration 0009. It answers what the statistics can only
# estimate and GIN can only answer by visiting every match's heap page (PostgreSQL 15's bitmap
# heap scan cannot skip all-visible pages): how many documents a one-term query matches, or at
# least (``known_matches``), and which lexemes an English prefix stands for (``_expanded``).
# Besides each lexeme, a key "|xy" for every two-character x, y: the documents holding the word
# xy or the bigram ~xy, which is exactly what a two-character Chinese term matches (its clause
# is ('xy') | ('~xy')), so its total needs no count at all.
# Only words, bigrams and those keys are kept: not ISBNs and other numbers (2 M lexemes at 1 M
# titles, one or two documents each), pinyin or filter tokens (a pinyin prefix keeps its prefix
# form). The "C" collation orders lexemes by code point, so a prefix is one range of the
# primary key. A lexeme no document holds any more stays at 0 until the next bulk load.
TERM_TABLE = "catalog_searchterm"
POSTING_TABLE = "catalog_searchposting"  # see "Postings" below
_TERM_KEPT_SQL = "lexeme ~ '^[^0-9@=]'"
_TERM_PAIR_SQL = "(lexeme ~ '^~' AND char_length(lexeme) = 3) OR (lexeme ~ '^[^~@=]' AND char_length(lexeme) = 2)"


def _term_keys_sql(vector: str) -> str:
    """A statement giving the term table's keys of one document's vector, once each."""
    return (
        f"SELECT lexeme AS key FROM unnest({vector}) WHERE {_TERM_KEPT_SQL} UNION "
        f"SELECT '|' || ltrim(lexeme, '~') FROM unnest({vector}) WHERE {_TERM_PAIR_SQL}"
    )


TERM_TABLE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {TERM_TABLE} "
    '(lexeme text COLLATE "C" PRIMARY KEY, documents integer NOT NULL, '
    "posted boolean NOT NULL DEFAULT false)"
)
TERM_FILL_SQL = (
    f"INSERT INTO {TERM_TABLE} (lexeme, documents) "
    f"SELECT key, count(*) FROM {DOC_TABLE} d, LATERAL ({_term_keys_sql('d.vector')}) k "
    "GROUP BY key ORDER BY key"
)


def pg_fill_term_table(conn: Any = None) -> None:
    """Create the term table if it is missing and count the keys of every stored document
    again (migration 0009)."""
    with (conn or connection).cursor() as cursor:
        cursor.execute(TERM_TABLE_SQL)
        cursor.execute(f"DELETE FROM {TERM_TABLE}")
        cursor.execute(TERM_FILL_SQL)


# The keys of the documents just inserted (or deleted), counted from their stored vectors, so the
# key rule is written once (``_term_keys_sql``). Rows are upserted in lexeme order, so two
# transactions indexing at once lock them in the same order (one waits for the other on a shared
# lexeme, never a deadlock).
_TERM_ADD_SQL = (
    f"INSERT INTO {TERM_TABLE} AS s (lexeme, documents) "
    f"SELECT key, count(*) FROM {DOC_TABLE} d, LATERAL ({_term_keys_sql('d.vector')}) k "
    "WHERE d.title_id = ANY(%s) GROUP BY key ORDER BY key "
    "ON CONFLICT (lexeme) DO UPDATE SET documents = s.documents + excluded.documents"
)
_TERM_DELETE_SQL = (
    f"WITH gone AS (DELETE FROM {DOC_TABLE} WHERE title_id = ANY(%s) RETURNING docid, vector), "
    # The documents' postings go with them (``POSTING_TABLE``): one primary-key probe per lexeme.
    f"unposted AS (DELETE FROM {POSTING_TABLE} p USING gone, "
    f"LATERAL ({_term_keys_sql('gone.vector')}) k WHERE p.lexeme = k.key AND p.docid = gone.docid) "
    f"INSERT INTO {TERM_TABLE} AS s (lexeme, documents) "
    f"SELECT key, -count(*) FROM gone, LATERAL ({_term_keys_sql('gone.vector')}) k "
    "GROUP BY key ORDER BY key "
    "ON CONFLICT (lexeme) DO UPDATE SET documents = s.documents + excluded.documents"
)
# A prefix (``'learn':*``) is written as the lexemes it stands for when they are at most this
# many: GIN then looks up exact entries, which it can intersect without reading every posting
# list of the prefix's range into a bitmap first (``machine learning`` at 1 M: the index scan
# 56 → 8 ms). More lexemes than this keep the prefix form.
PREFIX_EXPANSION = 32


# Postings of our own for the frequent terms: (lexeme, docid) under a btree primary key. GIN and
# RUM have no index-only scans and PostgreSQL 15's bitmap heap scan visits every match's heap
# page, so a query of 5,000-10,000 matches (``python``, ``machine learning``) paid ~8,000 heap
# pages to know its total and order its matches, and RUM sorts every match of a term below its
# docid bound before it returns the first (历史, 31,130 matches: ~4.5 ms); an index-only scan of
# the postings skips every all-visible page and reads a term's first titles in index order
# (``PostgresBackend.posted_matches``). Posted are three kinds (``_POSTED_KIND_SQL``): Latin
# words and Chinese words of three characters or more that ``POSTING_MIN_DOCUMENTS`` or more
# documents hold, and the "|xy" keys of two-character Chinese terms from
# ``POSTING_MIN_PAIR_DOCUMENTS`` (at 1 M titles: 145, 129 and 830 of them, 10.8 M postings). A
# rarer one's matches are few enough for GIN. Which are posted is the term table's ``posted`` flag, set by
# ``pg_post_frequent`` (migrations 0010 and 0011, the bulk load, a rebuild); from then on the
# backend's writes keep the postings exact in their transaction: an insert posts the new
# documents' posted keys (``_term_keys_sql``: the same keys the term table counts), a delete
# takes its documents' postings with it, a move changes their docid. A lexeme that grows past
# the threshold is posted by the next bulk load or rebuild; until then its queries keep to GIN
# and RUM.
POSTING_MIN_DOCUMENTS = 2000
# A two-character Chinese term's "|xy" key from this many documents: its postings give the
# term's head and, with the key's exact count, its whole answer, where GIN would collect every
# match (1,500 matches: 1,500 heap pages, ~2.5 ms, against ~0.3 ms).
POSTING_MIN_PAIR_DOCUMENTS = 1000
POSTING_TABLE_SQL = (
    f"CREATE TABLE IF NOT EXISTS {POSTING_TABLE} "
    '(lexeme text COLLATE "C" NOT NULL, docid bigint NOT NULL, PRIMARY KEY (lexeme, docid))'
)
# Latin words; the "|xy" keys of two Chinese characters (the documents holding the word xy or
# the bigram ~xy: exactly a two-character term's matches); Chinese words of three characters or
# more (a two-character word is in its key). Not bigrams, pinyin, filters, numbers.
_POSTED_KIND_SQL = (
    "(lexeme ~ '^[a-z]' OR (lexeme ~ '^[|]' AND ascii(substr(lexeme, 2)) > 127) "
    "OR (ascii(lexeme) > 127 AND char_length(lexeme) >= 3))"
)
_POSTING_ADD_SQL = (
    f"INSERT INTO {POSTING_TABLE} (lexeme, docid) "
    f"SELECT k.key, d.docid FROM {DOC_TABLE} d, LATERAL ({_term_keys_sql('d.vector')}) k "
    f"JOIN {TERM_TABLE} s ON s.lexeme = k.key AND s.posted WHERE d.title_id = ANY(%s)"
)
# A move: the document's postings follow its docid (the old one read in the statement's snapshot,
# the row locked before: ``PostgresBackend.move_documents``).
_POSTING_MOVE_SQL = (
    f"WITH old AS (SELECT docid, vector FROM {DOC_TABLE} WHERE title_id = %s), "
    f"reposted AS (UPDATE {POSTING_TABLE} p SET docid = %s FROM old, "
    f"LATERAL ({_term_keys_sql('old.vector')}) k WHERE p.lexeme = k.key AND p.docid = old.docid) "
    f"UPDATE {DOC_TABLE} SET docid = %s WHERE title_id = %s"
)
# Each clause's lexemes from the term table: a prefix's range, or one word (the range [w, w +
# U+0001), which under the "C" collation holds w alone: tokens have no control characters).
_CLAUSE_LEXEMES_SQL = (
    "SELECT x.i, s.lexeme, s.documents, s.posted "
    "FROM unnest(%s::text[], %s::text[]) WITH ORDINALITY AS x(lo, hi, i) "
    f"CROSS JOIN LATERAL (SELECT lexeme, documents, posted FROM {TERM_TABLE} "
    "WHERE lexeme >= x.lo AND lexeme < x.hi AND documents > 0 "
    f"ORDER BY lexeme LIMIT {PREFIX_EXPANSION + 1}) s"
)
# The matches of what a clause has beside its postings (rare lexemes, the pinyin alternative),
# through GIN, at most a few hundred each.
_CLAUSE_REST_SQL = (
    "SELECT x.i, array(SELECT d.docid FROM "
    f"{DOC_TABLE} d WHERE d.vector @@ x.q::tsquery LIMIT %s) "
    "FROM unnest(%s::text[]) WITH ORDINALITY AS x(q, i)"
)


def pg_post_frequent(
    conn: Any = None,
    *,
    min_documents: int = POSTING_MIN_DOCUMENTS,
    min_pair_documents: int = POSTING_MIN_PAIR_DOCUMENTS,
) -> int:
    """Post the lexemes and keys of the posted kinds (``_POSTED_KIND_SQL``) that
    ``min_documents`` or more documents hold (a "|xy" key: ``min_pair_documents``) and that are
    not posted yet: flag them in the term table and add a posting for every stored document
    holding one. Returns how many it posted. Setting the flags locks their term rows until
    commit, and an insert upserts its term rows before it posts, so a concurrent insert either
    commits before the fill reads the documents or sees the flags and posts its own."""
    with (conn or connection).cursor() as cursor:
        cursor.execute(POSTING_TABLE_SQL)
        cursor.execute(
            f"UPDATE {TERM_TABLE} SET posted = true WHERE NOT posted "
            "AND documents >= CASE WHEN lexeme ~ '^[|]' THEN %s ELSE %s END "
            f"AND {_POSTED_KIND_SQL} RETURNING lexeme",
            [min_pair_documents, min_documents],
        )
        lexemes = sorted(row[0] for row in cursor.fetchall())
        if lexemes:
            # In key order: the primary key is filled from left to right. The documents are
            # those GIN finds holding one of the lexemes (a "|xy" key: the word xy or ~xy).
            held = [
                f"({_pg_quote(x[1:])} | {_pg_quote('~' + x[1:])})" if x[0] == "|" else _pg_quote(x)
                for x in lexemes
            ]
            cursor.execute(
                f"INSERT INTO {POSTING_TABLE} (lexeme, docid) "
                f"SELECT k.key, d.docid FROM {DOC_TABLE} d, "
                f"LATERAL ({_term_keys_sql('d.vector')}) k "
                "WHERE d.vector @@ %s::tsquery AND k.key = ANY(%s) ORDER BY 1, 2",
                [" | ".join(held), lexemes],
            )
    forget_statistics()  # this process knows the new flags (``_PgStatistics.posted``)
    return len(lexemes)


def _pinyin_prefix(prefix: str) -> str:
    return _pg_quote("@" + prefix) + ":*"


class _PostedClause(NamedTuple):
    posted: list[tuple[str, int]]  # lexemes read from the postings, with their documents
    rest: str  # a tsquery of its rare lexemes, read through GIN ("" when none)
    pinyin: str  # the prefix of its pinyin alternative ("" when none)
    documents: int  # how many documents hold its lexemes (its pinyin alternative not known)


class PostedWindow(NamedTuple):
    """A plan's matches up to a limit, read from the postings (``posted_window``)."""

    matched: int  # how many match, up to the limit
    first: list[int]  # the first of them in index order (the head)
    end: int | None  # the limit-th match, when that many match


def pg_create_ordered_index(conn: Any = None) -> bool:
    """Create the RUM index when this database can have it: the ``rum`` extension is installed,
    or the server offers it (Debian's ``postgresql-15-rum``) and this role may install it.
    Returns whether the index now exists. Without it the engine reads matches through GIN only,
    with the same results (``PostgresBackend.order_for``). Runs in a savepoint: a server that
    lists the extension but cannot load it leaves the caller's transaction intact."""
    conn = conn or connection
    with conn.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [RUM_INDEX])
        if cursor.fetchone()[0]:
            return True
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
        if cursor.fetchone() is None:
            return False
    try:
        with transaction.atomic(using=conn.alias), conn.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS rum")
            cursor.execute(RUM_INDEX_SQL)
    except DatabaseError:
        return False
    return True


class PostgresBackend:
    vendor = "postgresql"
    source = f"{DOC_TABLE} d"
    docid = "d.docid"
    # "+ 0" keeps the planner on the GIN index: walking the docid index in order and testing
    # each row costs a scan of the whole table whenever a word is rare.
    order = "d.docid + 0"
    # In index order through the RUM index, when the database has it (``pg_create_ordered_index``).
    ordered = "d.docid <=> 0"
    # A word in at least this share of the documents is dense: it is counted rather than
    # collected, and walked in docid order instead of read through GIN: its matches are dense,
    # so the first 300 lie within a few thousand rows, while the GIN bitmap would fetch and sort
    # every match (measured at 1 M: 中国, 17 %, 300 rows 1 ms walking vs 330 ms through GIN).
    dense = 0.01
    # With the RUM index a dense word is walked only from this share on: below it RUM's ordered
    # head is cheaper (measured at 1 M, the first 300 of a word or its bigram, walking vs RUM:
    # 1.2 % 97 vs 9 ms, 1.7 % 75 vs 12, 2.3 % 62 vs 18, 3.2 % 37 vs 26, 3.9 % 33 vs 37, 10 % 9
    # vs 167 — RUM's cost grows with the matches it sorts, the walk's falls with density). With
    # the head bounded by docid (``head_bound``) RUM sorts far fewer and the crossover moved up
    # (backend CPU, best of 5, at 1 M: 2.9 % walk 11.5 vs bounded RUM 5.5 ms, 3.6 % 10.4 vs 6.7,
    # 4.0 % 10.8 vs 6.9, 4.9 % 7.1 vs 8.4, 10 % 3.8 vs 13.0).
    walk_with_ordered_index = 0.045
    # The RUM head is bounded by docid (``head_bound``) at twice the share of the documents
    # expected to hold it, when that share is at most a quarter of them (beyond it the bound
    # saves little of the sort and a miss would cost a second scan).
    head_margin = 2.0
    head_bound_up_to = 0.25
    # The window is counted without an order (a sequential scan that stops at 10,001 matches,
    # or the GIN bitmap): in docid order a word in 1 % of the documents would walk ~800,000
    # rows to find its 10,001st match (灯塔: 330 ms; unordered 14 ms).
    count_in_order = False
    # A query that is not dense reads its matches once, unordered, up to the window, and sorts
    # them in Python (selectors.search): one pass of the GIN bitmap instead of two.
    collect_unordered = True
    # ``posted_matches``: a posting read by an index-only scan costs about this share of a
    # match's heap page through GIN (measured at 1 M: python, 8,618 postings, 2.1 ms against
    # 14.0 ms through GIN); a clause's alternatives that are not posted are read through GIN
    # when they hold at most ``posting_rest`` documents.
    posting_cost = 0.15
    posting_rest = 500
    # Nor more than this many postings read by one statement, whatever GIN would cost (a very
    # short introduction reads ~70,000).
    posting_reads = 200_000
    # A pinyin prefix this short stands for many pinyin lexemes and documents (``to``: 22,529
    # at 1 M): a plan with one is left to GIN (collecting them would cost more than it saves).
    short_pinyin = 3

    def __init__(self) -> None:
        self._terms: dict[tuple[str, str], list[tuple[str, int, bool]]] = {}  # ``_term_rows``

    def _frequency(self, plan: Plan, *, any_weight: bool) -> float:
        """The statistics' share of documents holding the plan's word (the largest of its
        single-lexeme alternatives), for a one-term plan without filter tokens; else 0. A
        lexeme's share is a lower bound of the clause's matches (an OR, a prefix), unless the
        clause restricts it to some columns (weights): those count only with ``any_weight``."""
        if len(plan.clauses) != 1 or plan.filter_tokens:
            return 0.0
        frequencies = _pg_statistics().frequencies
        alternatives = _pg_alternatives(_compiled(plan.clauses[0]), any_weight=any_weight)
        return max((frequencies.get(a, 0.0) for a in alternatives), default=0.0)

    def is_dense(self, plan: Plan) -> bool:
        """Whether the plan's matches are known to be dense: a one-term query whose word, or
        one of its alternatives, is among the most common lexemes of the vector column's
        statistics in at least ``dense`` of the documents."""
        return self._frequency(plan, any_weight=True) >= self.dense

    def order_for(self, plan: Plan, *, dense: bool | None = None) -> str:
        """The ORDER BY for the plan's in-order scan: walk the docid index when the plan's
        matches are dense, else the RUM index in docid order where the database has it, else
        the GIN (which reads and sorts every match)."""
        if dense is None:
            dense = self.is_dense(plan)
        if not _pg_statistics().ordered_index:
            return "d.docid" if dense else self.order
        if dense and self._frequency(plan, any_weight=True) >= self.walk_with_ordered_index:
            return "d.docid"
        return self.ordered

    def order_condition(self, order: str) -> str:
        """What the in-order scan adds to its WHERE for ``order``: the RUM index's condition."""
        return f" AND {RUM_CONDITION}" if order == self.ordered else ""

    def head_bound(self, plan: Plan, order: str, *, matches: int, limit: int) -> int | None:
        """A docid below which the first ``limit`` of at least ``matches`` matches very likely
        lie, for the RUM head (``order``); None when no bound would help. RUM sorts every match
        its index condition lets through before it returns the first; with ``docid < bound`` in
        that condition it sorts only the matches below the bound (历史, 31,130 matches: 13.3 →
        5.2 ms of backend CPU at 1 M, the same 357 buffers). The bound is the docid at
        ``head_margin`` times the share of the documents that holds ``limit`` matches if they
        were spread evenly, read from the docid column's histogram (PostgreSQL's statistics,
        cached with the rest). A bound too tight only costs time: the caller reads the head
        again without it when fewer than ``limit`` come back. One-term plans only (no filter
        tokens): for an AND of terms the planner's estimate of the bounded matches falls to a
        row or two and it reads them through the GIN bitmap and sorts instead, every match's
        heap page (a very short introduction: 578 → 18,832 buffers)."""
        if order != self.ordered or len(plan.clauses) != 1 or plan.filter_tokens:
            return None
        statistics = _pg_statistics()
        # What the term table does not know (pinyin), the statistics estimate.
        matches = max(matches, int(self._frequency(plan, any_weight=False) * statistics.documents))
        if matches <= 0:
            return None
        bounds = statistics.docid_bounds
        buckets = len(bounds) - 1
        share = self.head_margin * limit / matches
        if buckets < 2 or share > self.head_bound_up_to:
            return None
        return bounds[max(1, math.ceil(share * buckets))]

    def collect_in_order(self, plan: Plan) -> bool:
        return False  # see SqliteBackend.collect_in_order; matches are collected unordered here

    def known_matches(self, plan: Plan) -> tuple[int, bool]:
        """What the term table knows of a one-term plan's matches (no filter tokens): exactly
        how many for a two-character Chinese term in any column (its "|xy" key), else at least
        as many as the most common lexeme the term matches by itself in any column (an OR with
        its bigram, a prefix: a lower bound). Returns (that number, whether it is exact); (0,
        False) when the table knows nothing."""
        if len(plan.clauses) != 1 or plan.filter_tokens:
            return 0, False
        pair = self._pair(plan.clauses[0])
        keys = [pair] if pair else _pg_alternatives(_compiled(plan.clauses[0]), any_weight=False)
        if not keys:
            return 0, False
        found = self._term_rows([(key, key + "\x01") for key in keys])
        return max((n for rows in found for _, n, _ in rows), default=0), bool(pair)

    def _known_keys(self, plan: Plan) -> list[str]:
        """The term table's keys ``known_matches`` reads."""
        if len(plan.clauses) != 1 or plan.filter_tokens:
            return []
        pair = self._pair(plan.clauses[0])
        return [pair] if pair else _pg_alternatives(_compiled(plan.clauses[0]), any_weight=False)

    def _term_rows(self, ranges: Sequence[tuple[str, str]]) -> list[list[tuple[str, int, bool]]]:
        """The term table's rows (lexeme, documents, posted; documents > 0, at most
        ``PREFIX_EXPANSION`` + 1, in lexeme order) in each range [low, high), kept for this
        backend's search: its statements ask the same ranges several times (the expansions,
        ``known_matches``, ``posted_matches``), and ``match`` reads all of them at once first
        (one statement instead of two or three)."""
        missing = list(dict.fromkeys(r for r in ranges if r not in self._terms))
        if missing:
            for r in missing:
                self._terms[r] = []
            with connection.cursor() as cursor:
                if all(high == low + "\x01" for low, high in missing):
                    # Single lexemes only (most searches): their rows by key.
                    cursor.execute(
                        f"SELECT lexeme, documents, posted FROM {TERM_TABLE} "
                        "WHERE lexeme = ANY(%s) AND documents > 0",
                        [[low for low, _ in missing]],
                    )
                    for lexeme, documents, posted in cursor.fetchall():
                        self._terms[(lexeme, lexeme + "\x01")].append((lexeme, documents, posted))
                else:
                    cursor.execute(
                        _CLAUSE_LEXEMES_SQL, [[r[0] for r in missing], [r[1] for r in missing]]
                    )
                    for number, lexeme, documents, posted in cursor.fetchall():
                        self._terms[missing[number - 1]].append((lexeme, documents, posted))
        return [self._terms[r] for r in ranges]

    @staticmethod
    def _pair(clause: Clause) -> str:
        """The term table's "|xy" key of a clause that is exactly a two-character Chinese term
        in all columns (``('xy') | ('~xy')``: the key counts and posts what it matches); else
        ""."""
        text = clause.term.text
        if clause.term.kind != "cjk" or len(text) != 2:
            return ""
        pair = f"(({_pg_quote(text)}) | ({_pg_quote('~' + text)}))"
        return "|" + text if _compiled(clause) == pair else ""

    def posted_matches(self, plan: Plan, limit: int) -> list[int] | None:
        """The plan's first ``limit`` matches in index order, read from the postings, when the
        plan can be answered there and that is cheaper than GIN; else None (the caller reads
        GIN as before). Same matches by construction: each clause is the union of its
        alternatives — its word or every lexeme its prefix stands for (from the term table), and
        its pinyin prefix; a Chinese term's words and bigrams (``_chinese_parts``) —, the
        posted ones from the postings, the others (rare lexemes and parts, at most
        ``posting_rest`` documents; a pinyin prefix, when it holds at most as many) through
        GIN. Which plans qualify: ``_posted_clauses``; never one with filter tokens."""
        statement = self._posted_statement(plan, limit)
        if statement is None:
            return None
        sql, params, repeats = statement
        if not sql:
            return []
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, limit + repeats])
            rows = cursor.fetchall()
        return self._unrepeated(rows, repeats, limit)

    def posted_window(self, plan: Plan, *, limit: int, head: int) -> PostedWindow | None:
        """What ``posted_matches(plan, limit)`` would say, without fetching every match: how
        many match up to ``limit`` (counted in the database, with the limit-th match) and the
        first ``head`` of them (machine learning at 1 M: 7.6 ms fetching its 8,347 matches,
        5.1 + 0.5 ms counting them and reading 300). Where the first clause has alternatives
        (which may repeat a document) the count takes the first ``limit`` distinct ones of the
        rows that hold them, merged in order (``_postings_sql``). None when the plan is left
        to GIN."""
        statement = self._posted_statement(plan, limit)
        if statement is None:
            return None
        sql, params, repeats = statement
        if not sql:
            return PostedWindow(0, [], None)
        with connection.cursor() as cursor:
            if repeats:
                # The first ``limit`` distinct documents of the rows that hold them.
                counted = f"SELECT DISTINCT r.docid FROM ({sql}) r ORDER BY r.docid LIMIT %s"
                cursor.execute(
                    f"SELECT count(*), max(w.docid) FROM ({counted}) w",
                    [*params, limit + repeats, limit],
                )
            else:
                cursor.execute(f"SELECT count(*), max(w.docid) FROM ({sql}) w", [*params, limit])
            matched, last = cursor.fetchone()
            cursor.execute(sql, [*params, head + repeats])
            first = self._unrepeated(cursor.fetchall(), repeats, head)
        return PostedWindow(matched, first, last if matched == limit else None)

    @staticmethod
    def _unrepeated(rows: Sequence[tuple[int]], repeats: int, limit: int) -> list[int]:
        if not repeats:
            return [row[0] for row in rows]
        # The first clause's alternatives may hold a document twice (in index order, next to
        # each other): at most ``repeats`` rows repeat one before them.
        out: list[int] = []
        for (docid,) in rows:
            if not out or out[-1] != docid:
                out.append(docid)
        return out[:limit]

    def _posted_statement(self, plan: Plan, limit: int) -> tuple[str, list[Any], int] | None:
        """The statement reading the plan's matches from the postings in index order (its last
        parameter the LIMIT) and how many rows may repeat one before them; no statement ("")
        when the term table knows that nothing matches; None when the plan is left to GIN (it
        does not qualify, or GIN costs less for ``limit`` matches)."""
        clauses = self._posted_clauses(plan)
        if clauses is None:
            return None
        if any(c.documents == 0 and not c.pinyin for c in clauses):
            return "", [], 0  # a clause nothing matches: the term table knows every posted kind
        if not all(c.posted for c in clauses):
            return None  # a clause of rare words only: GIN reads its few matches
        # The clause with the fewest documents is read in order, the others merged into it.
        clauses.sort(key=lambda c: c.documents)
        if not self._postings_cheaper(clauses, limit):
            return None
        rests: list[list[int]] = [[] for _ in clauses]
        asked = [
            (i, " | ".join(x for x in (c.rest, c.pinyin and _pinyin_prefix(c.pinyin)) if x))
            for i, c in enumerate(clauses)
            if c.rest or c.pinyin
        ]
        if asked:
            with connection.cursor() as cursor:
                cursor.execute(_CLAUSE_REST_SQL, [self.posting_rest + 1, [q for _, q in asked]])
                for number, docids in cursor.fetchall():
                    if len(docids) > self.posting_rest:
                        return None  # a pinyin prefix many documents hold: GIN it is
                    rests[asked[number - 1][0]] = docids
        return self._postings_sql(clauses, rests, limit)

    def _postings_cheaper(self, clauses: Sequence[_PostedClause], limit: int) -> bool:
        """Whether reading the postings costs less than GIN (clauses by documents, fewest
        first). GIN visits a heap page per match it collects (at most the first clause's
        documents, up to the limit), and when the matches may exceed the limit it reads the head
        in index order again (RUM), about as much more. Merged postings are read up to the
        limit's match: all of them when the matches are fewer, else about limit / matches of
        each clause's, matches taken as the first clause's documents (titles that share words
        usually share many). Measured at 1 M (backend CPU on a shared machine): python 31 →
        10.5 ms, a very short introduction 87 → 25, but introduction to physics (2,045 documents
        hold introduction and physics, 41,769 introduction) 25 → 38, which this leaves to GIN."""
        first = clauses[0].documents
        postings = sum(c.documents for c in clauses) * min(1.0, limit / max(first, 1))
        gin = min(first, limit) * (2 if first >= limit else 1)
        return postings * self.posting_cost < gin and postings <= self.posting_reads

    def _posted_clauses(self, plan: Plan) -> list[_PostedClause] | None:
        """Each clause's posted lexemes, rare lexemes, pinyin alternative and documents
        (``posted_matches``), or None when the plan does not qualify. A clause qualifies as a
        Latin term in all columns (its word, or the lexemes its prefix stands for), a
        two-character Chinese term in all columns (its "|xy" key), or another Chinese term in
        all columns whose parts are each posted, known empty or rare (``_chinese_parts``)."""
        posted = self._posted_ranges(plan)
        if posted is None:
            return None
        ranges, wanted = posted
        found = self._term_rows(ranges)
        out = []
        for clause, numbers in zip(plan.clauses, wanted, strict=True):
            term = clause.term
            if term.kind == "cjk" and not self._pair(clause):
                parts = self._chinese_parts(term, [found[n] for n in numbers])
                if parts is None:
                    return None
                out.append(parts)
                continue
            lexemes = found[numbers[0]]
            if len(lexemes) > PREFIX_EXPANSION:
                return None
            if sum(n for _, n, posted in lexemes if not posted) > self.posting_rest:
                return None
            pinyin = term.pinyin and bool(clause.group.pinyin)
            if pinyin and len(term.text) <= self.short_pinyin:
                return None  # its pinyin alternative (``to``) holds many documents: GIN
            # What is not posted is read through GIN: its lexemes, or a pair's own clause.
            pair = self._pair(clause)
            rest = [
                self._clause(clause) if pair else _pg_quote(x) for x, _, on in lexemes if not on
            ]
            out.append(
                _PostedClause(
                    posted=[(x, n) for x, n, posted in lexemes if posted],
                    rest=" | ".join(rest),
                    pinyin=term.text if pinyin else "",
                    documents=sum(n for _, n, _ in lexemes),
                )
            )
        return out

    def _posted_ranges(self, plan: Plan) -> tuple[list[tuple[str, str]], list[list[int]]] | None:
        """The term table's ranges ``_posted_clauses`` reads, and per clause the numbers of its
        ranges; None when a clause cannot qualify whatever the table says."""
        if plan.filter_tokens or not plan.clauses:
            return None
        words = ("t", "a", "p", "s")
        ranges: list[tuple[str, str]] = []  # looked up in the term table
        wanted: list[list[int]] = []  # per clause, the numbers of its ranges
        for clause in plan.clauses:
            term = clause.term
            if term.kind == "cjk" and len(plan.clauses) > 1:
                # An AND with a Chinese term is left to GIN, which intersects in the index:
                # its matches are often far fewer than any clause's documents, which the cost
                # rule cannot know (python 编程: 241 of 3,506; GIN 1.1 ms, the postings 4.6).
                return None
            pair = self._pair(clause)
            if pair and pair not in _pg_statistics().posted:
                return None  # a rarer pair: its key has no postings
            if pair:
                keys = [pair]
            elif term.kind == "cjk" and clause.group is FIELDS["all"] and len(term.text) > 1:
                # Its words, its bigrams, and for one bigram its "|xy" key and the word xy;
                # looked up only when one of them has postings (most Chinese terms are rare:
                # the lookup would be one more statement for nothing).
                keys = [*term.words, *("~" + g for g in term.grams)]
                if len(term.grams) == 1:
                    keys += ["|" + term.grams[0], term.grams[0]]
                if not _pg_statistics().posted.intersection(keys):
                    return None
            elif term.kind != "latin" or set(clause.group.words) != set(words):
                return None
            elif not "a" <= term.text[0] <= "z":
                return None  # not a kept lexeme (the term table would not know it)
            elif term.prefix:
                wanted.append([len(ranges)])
                ranges.append((term.text, term.text[:-1] + chr(ord(term.text[-1]) + 1)))
                continue
            else:
                keys = [term.text]
            wanted.append(list(range(len(ranges), len(ranges) + len(keys))))
            ranges += [(key, key + "\x01") for key in keys]
        return ranges, wanted

    def _chinese_parts(
        self, term: Term, found: Sequence[list[tuple[str, int, bool]]]
    ) -> _PostedClause | None:
        """A Chinese term's clause in all columns, ``(w1 & w2 …) | (~g1 <-> ~g2 …)``, as
        postings and a rest read through GIN, from the term table's rows of its words, its
        bigrams and (for one bigram) its "|xy" key and the word xy; None when a part is neither
        posted, known empty nor rare (at most ``posting_rest`` documents).

        * The words: one word is its lexeme (posted or rare); a conjunction holds no document
          when one of its words is in none (的河: no title has the word 河), else at most as
          many as its rarest word (rare: read through GIN).
        * The bigrams: one bigram ~xy is the "|xy" key's postings when no document holds the
          word xy (the key counts documents with the word or the bigram); a chain is a phrase
          holding at most as many documents as its rarest bigram (人民文学出版社 is mostly a
          publisher's word, and publishers have no bigrams)."""
        count = [sum(n for _, n, _ in rows) for rows in found]
        words = len(term.words)
        posted: list[tuple[str, int]] = []
        rest: list[str] = []
        documents = 0
        if words == 1:
            if found[0]:
                ((word, n, on),) = found[0]
                if on:
                    posted.append((word, n))
                else:
                    rest.append(_pg_quote(word))
                documents += n
        elif min(count[:words]) > 0:
            rest.append("(" + " & ".join(_pg_quote(w) for w in term.words) + ")")
            documents += min(count[:words])
        grams = ["~" + g for g in term.grams]
        chain = min(count[words : words + len(grams)])
        if len(grams) == 1 and chain:
            key_rows, word_documents = found[words + 1], count[words + 2]
            if key_rows and key_rows[0][2] and word_documents == 0:
                posted.append((key_rows[0][0], key_rows[0][1]))
            else:
                rest.append(_pg_quote(grams[0]))
        elif chain:
            rest.append("(" + " <-> ".join(_pg_quote(g) for g in grams) + ")")
        documents += chain
        if documents - sum(n for _, n in posted) > self.posting_rest:
            return None
        return _PostedClause(posted=posted, rest=" | ".join(rest), pinyin="", documents=documents)

    @staticmethod
    def _postings_sql(
        clauses: Sequence[_PostedClause], rests: Sequence[list[int]], limit: int
    ) -> tuple[str, list[Any], int]:
        """The statement for ``posted_matches`` (its last parameter the LIMIT, at most
        ``limit`` and the repeats), and how many rows of the first clause may repeat one before
        them. Each clause is the union of its posted lexemes' postings (index-only scans in
        docid order) and its collected rest; the first clause's documents are kept when every
        other clause holds them (merge semi joins)."""
        params: list[Any] = []
        first, *others = clauses
        sizes = [n for _, n in first.posted] + [len(rests[0])]
        repeats = sum(sizes) - max(sizes)

        def union(clause: _PostedClause, rest: list[int], *, ordered: bool = False) -> str:
            # ``ordered``: each part in order and limited, so that their union is merged in
            # order (Merge Append) instead of sorted whole: python's head 1.4 → 0.3 ms.
            tail = " ORDER BY 1 LIMIT %s" if ordered else ""
            parts = []
            for lexeme, _ in clause.posted:
                parts.append(f"SELECT docid FROM {POSTING_TABLE} WHERE lexeme = %s{tail}")
                params.extend([lexeme, limit + repeats] if ordered else [lexeme])
            if rest:
                parts.append(f"SELECT unnest(%s::bigint[]) AS docid{tail}")
                params.extend([sorted(rest), limit + repeats] if ordered else [sorted(rest)])
            if len(parts) == 1:
                return parts[0]
            return " UNION ALL ".join(f"({part})" for part in parts)

        driver = union(first, rests[0], ordered=repeats > 0)
        # Each other clause in a subquery of its own (OFFSET 0) in docid order: merged. The
        # planner's estimate of an AND of words assumes they are independent (very ∧ short: 436
        # of 20,897 documents, truly all of them), and on that it would probe the clause's
        # postings once per document instead (a very short introduction: 30,193 buffers, 310
        # merged); a subquery it cannot enter cannot be probed.
        conditions = [
            f"EXISTS (SELECT 1 FROM ({union(clause, rest)} ORDER BY docid OFFSET 0) k{number} "
            f"WHERE k{number}.docid = c.docid)"
            for number, (clause, rest) in enumerate(zip(others, rests[1:], strict=True), start=1)
        ]
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        sql = f"SELECT c.docid FROM ({driver}) c{where} ORDER BY c.docid LIMIT %s"
        return sql, params, repeats

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load many documents at once: one transaction, the GIN index (and the RUM index where
        the database can have it) built once at the end, then the tables vacuumed and
        analysed."""
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(f"DROP INDEX IF EXISTS {GIN_INDEX}")
                cursor.execute(f"DROP INDEX IF EXISTS {RUM_INDEX}")
            yield
            with connection.cursor() as cursor:
                # Django's foreign keys are deferred; check them now, or PostgreSQL refuses to
                # build an index on a table with pending trigger events.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
                cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
                cursor.execute(GIN_INDEX_SQL)
            pg_create_ordered_index()
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
                # The term table was kept by every batch; lexemes gone from the catalog go.
                cursor.execute(f"DELETE FROM {TERM_TABLE} WHERE documents = 0")
            # The postings of posted lexemes were kept by every batch; lexemes that became
            # frequent with this load are posted now.
            pg_post_frequent()
        # Leave the tables ready: statistics for the planner and for ``is_dense``, and the
        # visibility map set (a bulk load leaves it empty, so every count would visit the heap
        # until autovacuum came by). VACUUM cannot run inside a transaction: a caller's own
        # transaction gets ANALYZE only.
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            for table in (DOC_TABLE, POSTING_TABLE, "catalog_title", "catalog_offer"):
                cursor.execute(f"{command} {table}")
        forget_statistics()

    @staticmethod
    def _clause(clause: Clause, expansions: Mapping[str, list[str]] | None = None) -> str:
        term: Term = clause.term
        group = clause.group
        w = _weights(group.words, ("t", "a", "p", "s"))
        g = _weights(group.grams, ("tg", "ag")) if group.grams else ""
        py = _weights(group.pinyin, ("pt", "pa")) if group.pinyin else ""

        def lex(token: str, weights: str, *, prefix: bool = False) -> str:
            lexemes = (expansions or {}).get(token) if prefix else None
            if lexemes:
                label = ":" + weights if weights else ""
                return "(" + " | ".join(_pg_quote(x) + label for x in lexemes) + ")"
            label = ("*" if prefix else "") + weights
            return _pg_quote(token) + (":" + label if label else "")

        parts: list[str] = []
        if term.kind == "cjk":
            if len(term.text) == 1:
                parts.append(lex(term.text, w))
                if group.grams:
                    parts.append(lex("~" + term.text, g, prefix=True))
            else:
                parts.append("(" + " & ".join(lex(x, w) for x in term.words) + ")")
                if group.grams:
                    parts.append("(" + " <-> ".join(lex("~" + x, g) for x in term.grams) + ")")
        elif term.kind == "latin" and term.prefix:
            parts.append(lex(term.text, w, prefix=True))
            if group.pinyin and term.pinyin:
                parts.append(lex("@" + term.text, py, prefix=True))
        else:
            parts.append(lex(term.text, w))
        return "(" + " | ".join(parts) + ")"

    def tsquery(self, plan: Plan, expansions: Mapping[str, list[str]] | None = None) -> str:
        """The plan as a tsquery; a Latin prefix in ``expansions`` is written as its lexemes."""
        parts = [self._clause(c, expansions) for c in plan.clauses]
        for group in plan.filter_tokens:
            parts.append("(" + " | ".join(_pg_quote("=" + t) for t in group) + ")")
        return " & ".join(parts)

    @staticmethod
    def _prefix_ranges(plan: Plan) -> list[tuple[str, str]]:
        """The term table's ranges of the plan's Latin prefixes: tokens are letters and digits,
        so [prefix, prefix with its last character incremented) holds exactly the lexemes that
        start with it."""
        prefixes = [c.term.text for c in plan.clauses if c.term.kind == "latin" and c.term.prefix]
        return [(p, p[:-1] + chr(ord(p[-1]) + 1)) for p in dict.fromkeys(prefixes)]

    def _expanded(self, plan: Plan) -> dict[str, list[str]]:
        """The lexemes each prefix stands for, from the term table, for the prefixes that stand
        for 1 to ``PREFIX_EXPANSION`` of them (the others keep the prefix form)."""
        ranges = self._prefix_ranges(plan)
        return {
            low: [x for x, _, _ in rows]
            for (low, _), rows in zip(ranges, self._term_rows(ranges), strict=True)
            if 0 < len(rows) <= PREFIX_EXPANSION
        }

    def match(self, plan: Plan) -> tuple[str, list]:
        # Every range of the term table this search will ask, in one statement.
        posted = self._posted_ranges(plan)
        self._term_rows(
            [
                *self._prefix_ranges(plan),
                *((key, key + "\x01") for key in self._known_keys(plan)),
                *(posted[0] if posted else ()),
            ]
        )
        return "d.vector @@ %s::tsquery", [self.tsquery(plan, self._expanded(plan))]

    def any_of(self, expression: str, values: Sequence[int]) -> tuple[str, list]:
        """A condition that ``expression`` is one of ``values``: one array parameter from
        ``tier_tests_from`` values on (300 placeholders cost the client more to write and send
        than the statement costs to run), a list below (an array costs more for a few)."""
        if len(values) < self.tier_tests_from:
            return f"{expression} IN ({','.join(['%s'] * len(values))})", list(values)
        return f"{expression} = ANY(%s)", [list(values)]

    # The head's rows from which the tiers are tested in SQL (``tier_tests``).
    tier_tests_from = 16

    def tier_tests(self, plans: Sequence[Plan], *, rows: int) -> tuple[str, list] | None:
        """SQL giving, per document row ``d`` of ``rows``, whether its vector matches each of
        ``plans`` (the relevance tiers' restricted plans, ``selectors.search._rank``): the
        index's own matching, on vectors the row already holds, instead of sending the token
        columns to Python to test them there (the head rows and the ranking at 1 M: 300 rows
        5.2 → 3.0 ms, 100 rows 2.2 → 1.5, 20 rows 0.67 → 0.63). Below ``tier_tests_from`` rows
        the two tsqueries cost more than they save (1 row: 0.31 → 0.40 ms): None, the tokens
        are read. A prefix keeps its prefix form (nothing is looked up: the vector is tested,
        not the index); filter tokens are left out (every row of the head matches them)."""
        if rows < self.tier_tests_from:
            return None
        tests = [self.tsquery(Plan(clauses=plan.clauses)) for plan in plans]
        return ", ".join(["d.vector @@ %s::tsquery"] * len(tests)), tests

    def contains(self, plan: Plan, title_id: int) -> bool:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT 1 FROM {DOC_TABLE} WHERE title_id = %s AND vector @@ %s::tsquery",
                [title_id, self.tsquery(plan, self._expanded(plan))],
            )
            return cursor.fetchone() is not None

    def delete_documents(self, title_ids: Sequence[int]) -> None:
        """Delete the titles' documents and take their lexemes off the term table."""
        with connection.cursor() as cursor:
            cursor.execute(_TERM_DELETE_SQL, [list(title_ids)])

    def insert_documents(self, rows: Iterable[tuple[int, int, Document]]) -> None:
        """Insert (title id, docid, document) rows and add their lexemes to the term table (one
        statement per call: a bulk load's batch of 5,000 is one upsert)."""
        sql = (
            f"INSERT INTO {DOC_TABLE} (title_id, docid, {', '.join(COLUMNS)}, vector) "
            f"VALUES (%s, %s, {', '.join(['%s'] * len(COLUMNS))}, %s::tsvector)"
        )
        params = []
        for title_id, docid, doc in rows:
            cols = doc.columns()
            params.append([title_id, docid, *(cols[c] for c in COLUMNS), pg_vector_literal(doc)])
        if params:
            with connection.cursor() as cursor:
                cursor.executemany(sql, params)
                title_ids = [p[0] for p in params]
                cursor.execute(_TERM_ADD_SQL, [title_ids])
                cursor.execute(_POSTING_ADD_SQL, [title_ids])

    def move_documents(self, moves: Mapping[int, int]) -> int:
        """Give documents a new docid, and their postings with them (see ``_move_documents``)."""
        if not moves:
            return 0
        moved = 0
        with connection.cursor() as cursor:
            # Locked first: each move below reads the docid it moves from in a statement of its
            # own, which a concurrent move of the same title must not change in between.
            cursor.execute(
                f"SELECT 1 FROM {DOC_TABLE} WHERE title_id = ANY(%s) ORDER BY title_id FOR UPDATE",
                [list(moves)],
            )
            for title_id, new_docid in moves.items():
                cursor.execute(_POSTING_MOVE_SQL, [title_id, new_docid, new_docid, title_id])
                moved += max(0, cursor.rowcount)
        return moved

    def clear(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {DOC_TABLE}")
            # Migration 0007 rebuilds the index before 0009 and 0010 have created the tables.
            cursor.execute(TERM_TABLE_SQL)
            # Counts to 0, flags kept: the documents inserted again are posted as they come.
            cursor.execute(f"UPDATE {TERM_TABLE} SET documents = 0 WHERE documents <> 0")
            cursor.execute(POSTING_TABLE_SQL)
            cursor.execute(f"DELETE FROM {POSTING_TABLE}")

    def optimize(self) -> None:
        """After a rebuild: drop the lexemes no document holds any more, post those that
        became frequent, and analyse the tables."""
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TERM_TABLE} WHERE documents = 0")
        pg_post_frequent()
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {DOC_TABLE}")
            cursor.execute(f"ANALYZE {POSTING_TABLE}")
        forget_statistics()  # this process sees the new statistics


class _PgStatistics(NamedTuple):
    frequencies: dict[str, float]  # share of documents holding each of the most common lexemes
    ordered_index: bool  # whether the RUM index exists (``pg_create_ordered_index``)
    # The docid column's histogram: equal shares of the documents lie between neighbours
    # (``PostgresBackend.head_bound``); empty before the first ANALYZE.
    docid_bounds: tuple[int, ...] = ()
    documents: int = 0  # the planner's estimate of the search table's rows
    # The Chinese keys and words with postings (the term table's flags): whether a Chinese
    # clause is worth looking up in the term table (``PostgresBackend._posted_ranges``).
    posted: frozenset[str] = frozenset()


# PostgreSQL's statistics change only with ANALYZE, and the RUM index only with a migration or a
# bulk load: read once per connection alias, then kept.
_FREQUENCIES: MicroCache[_PgStatistics] = MicroCache(ttl=lambda: 600.0, max_entries=8)


def _pg_alternatives(clause_sql: str, *, any_weight: bool = True) -> list[str]:
    """The single-lexeme alternatives of a compiled clause ("('中国') | ('~中国')" → both;
    conjunctions and phrases are left out: their frequency is not a lexeme's; so are lexemes
    restricted to some columns ('中国':A) unless ``any_weight``)."""
    out = []
    for part in clause_sql.strip("()").split(" | "):
        part = part.strip("()")
        if "&" in part or "<->" in part:
            continue
        quoted, label = (
            part.rsplit(":", 1) if part.endswith(("*", "A", "B", "C", "D")) else (part, "")
        )
        if label.strip("*") and not any_weight:
            continue
        out.append(quoted[1:-1].replace("''", "'").replace("\\\\", "\\"))
    return out


@lru_cache(maxsize=4096)
def _compiled(clause: Clause) -> str:
    """A clause as a tsquery, its prefixes as prefixes: asked several times per search (which
    plan reads it, its known total, its key), compiled once."""
    return PostgresBackend._clause(clause)


def forget_statistics() -> None:
    """Drop this process's cached statistics of the search table (after ANALYZE, or after the
    RUM index was created or dropped), so the next search reads them again."""
    _FREQUENCIES.discard(connection.alias)


def _pg_statistics() -> _PgStatistics:
    """The share of documents holding each of the vector column's most common lexemes
    (PostgreSQL's own statistics: ANALYZE keeps up to 10,000 of them), and whether
    the RUM index exists, cached per process."""
    return _FREQUENCIES.get_or_compute(connection.alias, _read_statistics)


def _read_statistics() -> _PgStatistics:
    stats = (
        "SELECT {} FROM pg_stats WHERE schemaname = current_schema() "
        "AND tablename = %(table)s AND attname = '{}'"
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ({stats.format('most_common_elems::text::text[]', 'vector')}), "
            f"({stats.format('most_common_elem_freqs', 'vector')}), "
            "to_regclass(%(rum)s) IS NOT NULL, "
            f"({stats.format('histogram_bounds::text::bigint[]', 'docid')}), "
            "(SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = %(table)s::regclass), "
            f"array(SELECT lexeme FROM {TERM_TABLE} WHERE posted AND lexeme !~ '^[a-z]')",
            {"table": DOC_TABLE, "rum": RUM_INDEX},
        )
        lexemes, shares, ordered_index, docids, documents, posted = cursor.fetchone()
    frequencies = dict(zip(lexemes, shares, strict=False)) if lexemes else {}
    return _PgStatistics(
        frequencies,
        bool(ordered_index),
        tuple(docids or ()),
        documents or 0,
        frozenset(posted or ()),
    )


def _chunks(items: Sequence[int], size: int) -> Iterable[list[int]]:
    items = list(items)
    for i in range(0, len(items), size):
        yield items[i : i + size]


def get_backend() -> SqliteBackend | PostgresBackend:
    """The engine of the default database: a new one per search or write (the PostgreSQL
    backend keeps the term table's rows it read for the search it serves)."""
    if connection.vendor == "postgresql":
        return PostgresBackend()
    if connection.vendor == "sqlite":
        return SqliteBackend()
    raise NotImplementedError(f"catalog search has no backend for {connection.vendor}")
