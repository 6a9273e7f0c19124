"""Highlighted matches: the query's terms marked with <mark> in a field's text, HTML-escaped.

A CJK term is marked where it occurs as a substring; a Latin term where a word starts with it,
or where it spells the pinyin (full or initials) of consecutive Chinese characters, so that
"dygw" marks 东野圭吾.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from functools import lru_cache

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from xinyue.catalog.search import text
from xinyue.catalog.search.plan import Term

MAX_FIELD_CHARS = 400


def _folded_chars(value: str) -> str:
    """One folded character per character of ``value`` (so positions line up); Han characters
    in their simplified form, as the query's terms are."""
    if value.isascii():
        return value.lower()
    out = []
    for char in value:
        folded = unicodedata.normalize("NFKC", char).casefold()
        folded = folded[0] if len(folded) == 1 else char.casefold()[:1] or char
        out.append(text.fold_han_char(folded) if text.is_han(folded) else folded)
    return "".join(out)


def _pinyin_spans(value: str, token: str) -> list[tuple[int, int]]:
    """Where ``token`` spells consecutive Han characters of ``value``: one initial a character
    ("dygw" → 东野圭吾), or their full pinyin, the last syllable possibly unfinished ("dongy").

    A character counts with any of its readings (``text.readings``), so a polyphonic character
    is marked whichever way the query reads it; the index decided the match."""
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(value):
        if not text.is_han(value[i]):
            i += 1
            continue
        j = i
        while j < len(value) and text.is_han(value[j]):
            j += 1
        run = [text.readings(char) for char in value[i:j]]
        for start in range(len(run)):
            end = _initials_end(run, start, token) or _full_end(run, start, token)
            if end:
                spans.append((i + start, i + end))
        i = j
    return spans


def _initials_end(run: Sequence[tuple[str, ...]], start: int, token: str) -> int:
    """The end of the characters from ``start`` whose initials are ``token`` (two letters or
    more), 0 if they are not."""
    end = start + len(token)
    if len(token) < 2 or end > len(run):
        return 0
    for k, letter in enumerate(token):
        if not any(reading.startswith(letter) for reading in run[start + k]):
            return 0
    return end


def _full_end(run: Sequence[tuple[str, ...]], start: int, token: str) -> int:
    """The furthest end of the characters from ``start`` that ``token`` spells in full pinyin,
    its last syllable possibly unfinished; 0 if none. Each (character, letters read) state is
    visited once, so a hostile query cannot make this exponential."""
    best = 0
    seen: set[tuple[int, int]] = set()
    pending = [(start, 0)]
    while pending:
        k, read = pending.pop()
        if (k, read) in seen:
            continue
        seen.add((k, read))
        rest = token[read:]
        for reading in run[k]:
            if reading.startswith(rest):
                best = max(best, k + 1)
            elif rest.startswith(reading) and k + 1 < len(run):
                pending.append((k + 1, read + len(reading)))
    return best


def _spans(value: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    folded = _folded_chars(value)
    has_han = not value.isascii() and text.has_han(value)
    spans: list[tuple[int, int]] = []
    for term in terms:
        needle = term.text
        if not needle:
            continue
        if term.kind == "cjk":
            start = folded.find(needle)
            while start != -1:
                spans.append((start, start + len(needle)))
                start = folded.find(needle, start + 1)
            continue
        start = folded.find(needle)
        while start != -1:
            before = folded[start - 1] if start else " "
            if not (before.isascii() and before.isalnum()):
                spans.append((start, start + len(needle)))
            start = folded.find(needle, start + 1)
        if term.kind == "latin" and term.prefix and has_han:
            spans.extend(_pinyin_spans(value, needle))
    return spans


def highlight(value: str, terms: Sequence[Term]) -> SafeString:
    value = (value or "")[:MAX_FIELD_CHARS]
    if not value or not terms:
        return mark_safe(escape(value))  # escaped just above
    return _highlight(value, tuple(terms))


# A result page's fields are highlighted on every request (the titles are read fresh); the same
# text with the same terms comes back often (popular searches), and marking it is pure.
@lru_cache(maxsize=8192)
def _highlight(value: str, terms: tuple[Term, ...]) -> SafeString:
    spans = sorted(_spans(value, terms)) if value and terms else []
    if not spans:
        return mark_safe(escape(value))  # escaped just above
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    out: list[str] = []
    cursor = 0
    for start, end in merged:
        out.append(escape(value[cursor:start]))
        out.append("<mark>" + escape(value[start:end]) + "</mark>")
        cursor = end
    out.append(escape(value[cursor:]))
    return mark_safe("".join(out))  # every piece is escaped
