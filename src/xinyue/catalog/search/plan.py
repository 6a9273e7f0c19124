"""What a title puts into the index and what a query asks of it, independent of the engine.

A title becomes a ``Document`` of eight token columns. A query becomes a ``Plan``: an ISBN to look
up, or clauses that must all match (AND); each clause is one query term restricted to a field
group. ``backends`` compiles a plan to FTS5 MATCH syntax or to a PostgreSQL tsquery with the same
meaning, so both engines return the same titles.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field

from xinyue.catalog.search import text
from xinyue.catalog.search.isbn import Isbn, parse_isbn

# Index columns: words of title / authors / publisher / subjects (+ ISBNs), grams (short-word
# fallback) of title / authors, pinyin of title / authors, filter tokens (category, publisher).
COLUMNS = ("t", "a", "p", "s", "tg", "ag", "pt", "pa", "f")

MAX_QUERY_CHARS = 100  # longer input is cut (never an error)
MAX_TERMS = 12  # terms beyond these are ignored
MAX_COLUMN_TOKENS = 1500  # a column keeps at most this many tokens


@dataclass(frozen=True)
class FieldGroup:
    words: tuple[str, ...]
    grams: tuple[str, ...] = ()
    pinyin: tuple[str, ...] = ()


FIELDS: dict[str, FieldGroup] = {
    "all": FieldGroup(words=("t", "a", "p", "s"), grams=("tg", "ag"), pinyin=("pt", "pa")),
    "title": FieldGroup(words=("t",), grams=("tg",), pinyin=("pt",)),
    "author": FieldGroup(words=("a",), grams=("ag",), pinyin=("pa",)),
    "publisher": FieldGroup(words=("p",)),
    "subject": FieldGroup(words=("s",)),
}
# Relevance tiers: every term within the title, or within the title and the authors.
TITLE_GROUP = FIELDS["title"]
TITLE_AUTHOR_GROUP = FieldGroup(words=("t", "a"), grams=("tg", "ag"), pinyin=("pt", "pa"))
# Per-field search also accepts "isbn" (an exact ISBN lookup).
FIELD_NAMES = (*FIELDS.keys(), "isbn")


POPULARITY_BUCKETS = 256
TITLE_ID_BITS = 32
TITLE_ID_MASK = (1 << TITLE_ID_BITS) - 1


def docid(title_id: int, popularity: int) -> int:
    """The index order key: more popular first (a logarithmic bucket), then by title id."""
    bucket = min(POPULARITY_BUCKETS - 1, int(math.log2(max(0, popularity) + 1) * 8))
    return ((POPULARITY_BUCKETS - 1 - bucket) << TITLE_ID_BITS) | title_id


# Within a relevance tier titles are ordered by interest: 8 × log2(popularity + 1) — the index
# order's own scale, +8 each time readers' interest doubles — plus a bonus for a recent edition:
# RECENCY_BONUS in its year of publication (as if interest were twice as high), falling to 0
# after RECENCY_YEARS.
RECENCY_BONUS = 8.0
RECENCY_YEARS = 5


def interest(*, popularity: int, year: int | None, this_year: int) -> float:
    """How much readers want a title, for ordering equally matching titles."""
    score = 8 * math.log2(max(0, popularity) + 1)
    if year:
        score += RECENCY_BONUS * max(0.0, 1 - max(0, this_year - year) / RECENCY_YEARS)
    return score


def category_token(category_id: int) -> str:
    return f"c{category_id}"


def publisher_token(publisher: str) -> str:
    digest = hashlib.blake2s(text.fold(publisher).strip().encode(), digest_size=6).hexdigest()
    return f"p{digest}"


@dataclass(frozen=True)
class Document:
    t: list[str]
    a: list[str]
    p: list[str]
    s: list[str]
    tg: list[str]
    ag: list[str]
    pt: list[str]
    pa: list[str]
    f: list[str]

    def columns(self) -> dict[str, str]:
        """Each column as the space-separated token string stored in the index."""
        return {c: " ".join(getattr(self, c)[:MAX_COLUMN_TOKENS]) for c in COLUMNS}


def build_document(
    *,
    title: str,
    subtitle: str = "",
    authors: Iterable[str] = (),
    publisher: str = "",
    subjects: str = "",
    isbn13: str = "",
    isbn10: str = "",
    category_id: int | None = None,
) -> Document:
    authors = [a for a in authors if a and a.strip()]
    t = text.words(title) + text.words(subtitle)
    a: list[str] = []
    ag: list[str] = []
    pa: list[str] = []
    for name in authors:
        a += text.words(name)
        ag += text.grams(name)
        pa += text.pinyin(name)
    s = text.words(subjects) + [n for n in (isbn13.lower(), isbn10.lower()) if n]
    return Document(
        t=t,
        a=a,
        p=text.words(publisher),
        s=s,
        tg=text.grams(title) + text.grams(subtitle),
        ag=ag,
        pt=text.pinyin(title),
        pa=pa,
        f=[
            *([category_token(category_id)] if category_id else []),
            *([publisher_token(publisher)] if publisher.strip() else []),
        ],
    )


@dataclass(frozen=True)
class Term:
    kind: str  # "cjk" | "latin" | "digit"
    text: str
    words: tuple[str, ...] = ()  # cjk: precise-mode words of the run
    grams: tuple[str, ...] = ()  # cjk: the bigram chain (or the unigram)

    @property
    def prefix(self) -> bool:
        """Latin terms match as prefixes (pinyin typed so far, English word stems)."""
        return self.kind == "latin" and len(self.text) >= 2

    @property
    def pinyin(self) -> bool:
        """Whether the term is also looked for in the pinyin columns."""
        return self.prefix and text.could_be_pinyin(self.text)


@dataclass(frozen=True)
class Clause:
    term: Term
    group: FieldGroup

    def matcher(self) -> Callable[[Columns], bool]:
        """A test of whether a document matches this clause, given its ``Columns``, by the same
        rules as the compiled FTS5 / tsquery expressions (used to order results, identically on
        both engines). Each test is one or two substring searches in the joined columns of the
        group (a tuple of names: one string per row and group, joined once)."""
        term, group = self.term, self.group
        words, grams = group.words, group.grams
        if term.kind == "cjk" and len(term.text) == 1:
            needle, prefix = f" {term.text} ", f" {term.text}"
            return lambda cols: needle in cols[words] or prefix in cols[grams]
        if term.kind == "cjk":
            needles = [f" {w} " for w in term.words]
            chain = " " + " ".join(term.grams) + " "
            if len(needles) == 1:
                (single,) = needles
                return lambda cols: single in cols[words] or chain in cols[grams]
            return lambda cols: all(n in cols[words] for n in needles) or chain in cols[grams]
        if term.prefix:
            prefix = f" {term.text}"
            columns = (*words, *group.pinyin) if term.pinyin else words
            return lambda cols: prefix in cols[columns]
        needle = f" {term.text} "
        return lambda cols: needle in cols[words]


class Columns(dict):
    """A document's token columns for ``Clause.matcher``: each column as a space-padded token
    string (" a b c ") by its name, and any tuple of names as those columns joined by a line
    break, made on first use. Tokens hold no spaces or line breaks, so a needle (" word ",
    " prefix", " bi gr am ") is found in the joined string exactly when it is found in one of
    the columns."""

    def __missing__(self, key: tuple[str, ...]) -> str:
        value = "\n".join(self[name] for name in key) if isinstance(key, tuple) else " "
        self[key] = value
        return value


@dataclass
class Plan:
    clauses: list[Clause] = field(default_factory=list)
    # Filters answered by the index: every group must match one of its tokens (column f).
    filter_tokens: list[list[str]] = field(default_factory=list)
    isbn: Isbn | None = None
    impossible: bool = False  # e.g. an invalid ISBN in the ISBN field: nothing can match
    highlight_terms: list[Term] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.clauses and self.isbn is None and not self.impossible

    @property
    def uses_index(self) -> bool:
        return bool(self.clauses or self.filter_tokens)

    def matcher(self) -> Callable[[Columns], bool]:
        """A test of whether every clause matches a document (see ``Clause.matcher``)."""
        tests = [c.matcher() for c in self.clauses]
        if len(tests) == 1:
            return tests[0]
        return lambda cols: all(test(cols) for test in tests)

    def restricted(self, group: FieldGroup) -> Plan:
        """The same plan with its free-text clauses limited to ``group``'s columns (clauses of
        a per-field search keep their field)."""
        return Plan(
            clauses=[
                Clause(c.term, group) if c.group is FIELDS["all"] else c for c in self.clauses
            ],
            filter_tokens=self.filter_tokens,
            isbn=self.isbn,
        )


def terms(query: str) -> list[Term]:
    out: list[Term] = []
    for run in text.runs(query[: MAX_QUERY_CHARS * 2]):
        if text.is_cjk(run):
            out.append(Term("cjk", run, text.query_words(run), tuple(text.run_grams(run))))
        elif run.isdigit():
            out.append(Term("digit", run))
        else:
            out.append(Term("latin", run))
    # Drop repeats, keep order.
    seen: set[str] = set()
    unique = []
    for term in out:
        if term.text not in seen:
            seen.add(term.text)
            unique.append(term)
    return unique


def make_plan(query: str = "", fields: Mapping[str, str] | None = None) -> Plan:
    plan = Plan()
    query = text.normalize_query(query, limit=MAX_QUERY_CHARS)
    parts: list[tuple[str, str]] = [("all", query)] if query else []
    for name, value in (fields or {}).items():
        value = text.normalize_query(str(value or ""), limit=MAX_QUERY_CHARS)
        if value and name in FIELD_NAMES:
            parts.append((name, value))
    for name, value in parts:
        if name == "isbn":
            isbn = parse_isbn(value)
            if isbn is None or (plan.isbn is not None and plan.isbn != isbn):
                plan.impossible = True
            else:
                plan.isbn = isbn
            continue
        if name == "all":
            isbn = parse_isbn(value)
            if isbn is not None:
                if plan.isbn is not None and plan.isbn != isbn:
                    plan.impossible = True
                plan.isbn = isbn
                plan.highlight_terms.append(Term("digit", isbn.isbn13))
                continue
        group = FIELDS[name]
        found = terms(value)
        if not found:
            plan.impossible = True  # typed only punctuation, symbols or emoji: nothing matches
        for term in found:
            if len(plan.clauses) >= MAX_TERMS:
                break
            plan.clauses.append(Clause(term, group))
            plan.highlight_terms.append(term)
    return plan
