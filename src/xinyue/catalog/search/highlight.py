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
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(value):
        if not text.is_han(value[i]):
            i += 1
            continue
        j = i
        while j < len(value) and text.is_han(value[j]):
            j += 1
        run = value[i:j]
        sylls = text.syllables(run)
        if len(sylls) == len(run):
            initials = "".join(s[:1] for s in sylls)
            for start in range(len(run)):
                # initials: one letter per character
                if initials.startswith(token, start) and len(token) > 1:
                    spans.append((i + start, i + start + len(token)))
                    continue
                # full pinyin, possibly ending inside the last syllable
                spelled = ""
                for end in range(start, len(run)):
                    spelled += sylls[end]
                    if len(spelled) >= len(token):
                        if spelled.startswith(token):
                            spans.append((i + start, i + end + 1))
                        break
                    if not token.startswith(spelled):
                        break
        i = j
    return spans


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
