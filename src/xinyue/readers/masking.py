"""Masking personal information for display and logs (DESIGN §6, GB/T 35273 §3.x display limits).

Every page, API response and log line shows PII only through these helpers. They never raise:
anything unexpected is masked wholesale rather than shown.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import unquote, unquote_plus

from stdnum import isbn as stdnum_isbn

__all__ = [
    "AccessLogRedactingFilter",
    "PiiRedactingFilter",
    "looks_like_pii",
    "mask_id_number",
    "mask_name",
    "mask_phone",
    "redact_search_term",
    "redact_text",
]


def _stars(n: int) -> str:
    return "*" * max(n, 0)


def mask_id_number(value: str | None) -> str:
    """``330106199001011234`` → ``330***********1234`` (first 3, last 4)."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) <= 7:
        return _stars(len(value))
    return value[:3] + _stars(len(value) - 7) + value[-4:]


def mask_phone(value: str | None) -> str:
    """``13812345678`` → ``138****5678`` (first 3, last 4)."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) <= 7:
        return _stars(len(value))
    return value[:3] + _stars(len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """``张三丰`` → ``张**``, ``张三`` → ``张*``: the first character, one star per other character.

    A name of Latin letters keeps its first letter likewise (``Alice`` → ``A****``).
    """
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) == 1:
        return "*"
    return value[0] + _stars(len(value) - 1)


# An 18-character ID number (17 digits + digit/X) or a 15-digit first-generation one, not part
# of a longer run of digits (letters around it do not protect it: ``cert_no330…`` is masked); a mainland mobile number (1[3-9] + 9 digits, also written 3-4-4
# with hyphens or spaces, with or without +86), not glued to other digits.
_ID_RE = re.compile(r"(?<!\d)(\d{17}[\dXx]|\d{15})(?![\dXx])")
_PHONE_RE = re.compile(r"(?<!\d)(?:\+?86[- ]?)?(1[3-9]\d[- ]?\d{4}[- ]?\d{4})(?!\d)")


def redact_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text."""
    if not text:
        return text
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(1)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(re.sub(r"[- ]", "", m.group(1))), text)


# A run of digits that may be written in groups (spaces, hyphens), with an optional +86 and a
# final X (ID numbers): what a reader types into a search box when they paste a number.
_DIGIT_RUN_RE = re.compile(r"\+?\d[\d\s\-]*[\dXx]")
_SEPARATORS_RE = re.compile(r"[\s\-+]")
_MOBILE_RE = re.compile(r"1[3-9]\d{9}")


def _mask_digit_run(run: str) -> str:
    digits = _SEPARATORS_RE.sub("", run)
    if len(digits) in (10, 13) and stdnum_isbn.is_valid(digits):
        return run  # an ISBN is a book, not a person
    if len(digits) == 13 and digits.startswith("86") and _MOBILE_RE.fullmatch(digits[2:]):
        digits = digits[2:]
    if _MOBILE_RE.fullmatch(digits):
        return mask_phone(digits)
    if (len(digits) == 18 and digits[:17].isdigit()) or (len(digits) == 15 and digits.isdigit()):
        return mask_id_number(digits.upper())
    if len(digits) >= 12 and digits.isdigit():  # bank cards (16–19 digits) and other long numbers
        return mask_id_number(digits)
    return run


def redact_search_term(term: str) -> str:
    """A search term as it may be stored, shown or logged: ID-number-, mobile- and bank-card-like
    digit runs masked (also when typed in groups), ISBN-10/13 with a valid checksum kept."""
    if not term or not any(c.isdigit() for c in term):
        return term
    return _DIGIT_RUN_RE.sub(lambda m: _mask_digit_run(m.group(0)), term)


_MASKED_RE = re.compile(r"\d\*{3,}|\*{3,}\d")


def looks_like_pii(term: str) -> bool:
    """Whether the term carries an ID number, a phone or a card number, in clear or already
    masked (``138****5678``)."""
    return bool(_MASKED_RE.search(term)) or redact_search_term(term) != term


class PiiRedactingFilter(logging.Filter):
    """A logging filter (installed on the root handlers in ``settings.LOGGING``) that masks ID
    numbers and phone numbers in the formatted message of any record, and in its exception text.

    The record's message is rendered once here (``msg % args``) and replaced by the masked text,
    so formatters and handlers downstream never see the clear value.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not drop the record
            message = str(record.msg)
        masked = redact_text(message)
        if masked != message or record.args:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        if record.stack_info:
            record.stack_info = redact_text(record.stack_info)
        return True


_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


class AccessLogRedactingFilter(PiiRedactingFilter):
    """The web server's access log (``core/data/server-logging.json``): the request path and
    query string are decoded and masked like search terms before the line is written, so a
    number typed as ``138%201234%205678`` is masked too; control characters cannot forge lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, dict):
            args = dict(record.args)
            if "path" in args:
                args["path"] = self._clean(unquote(str(args["path"])))
            if "query_string" in args:
                query = self._clean(unquote_plus(str(args["query_string"] or "")))
                args["query_string"] = f"?{query}" if query else ""
            record.args = args
        return super().filter(record)

    @staticmethod
    def _clean(text: str) -> str:
        return redact_search_term(_CONTROL_RE.sub("?", text))
