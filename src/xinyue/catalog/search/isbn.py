"""ISBN in any form (hyphens, spaces, ISBN-10 or ISBN-13, a leading "ISBN"), via python-stdnum."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stdnum import ean as stdnum_ean
from stdnum import isbn as stdnum_isbn
from stdnum.exceptions import ValidationError

_NOISE = re.compile(r"[\s\-‐‑‒–—_.:：]+")
_PREFIX = re.compile(r"^isbn(?:-1[03])?", re.IGNORECASE)


@dataclass(frozen=True)
class Isbn:
    isbn13: str
    isbn10: str  # "" when the ISBN-13 has no ISBN-10 form (979 prefix)


def compact(raw: str) -> str:
    text = _NOISE.sub("", (raw or "").strip())
    return _PREFIX.sub("", text).upper()


def parse_isbn(raw: str) -> Isbn | None:
    """The normalised ISBN, or None when ``raw`` is not a valid ISBN-10/13 (checksum included)."""
    number = compact(raw)
    if len(number) not in (10, 13) or not number[:-1].isdigit():
        return None
    try:
        stdnum_isbn.validate(number)
        isbn13 = stdnum_isbn.to_isbn13(number)
    except ValidationError:
        return None
    try:
        isbn10 = stdnum_isbn.to_isbn10(isbn13)
    except ValidationError:
        isbn10 = ""
    return Isbn(isbn13=isbn13, isbn10=isbn10)


def isbn_problem(raw: str) -> str | None:
    """Why ``raw`` is not a valid ISBN (a message for import reports), or None."""
    number = compact(raw)
    if not number:
        return "缺少 ISBN"
    if len(number) not in (10, 13) or not number[:-1].isdigit():
        return f"ISBN 格式错误（{raw.strip()[:40]}）"
    if parse_isbn(number) is None:
        return f"ISBN 校验位错误（{raw.strip()[:40]}）"
    return None


def check_digit_13(first12: str) -> str:
    """The ISBN-13 check digit of 12 digits (for generating demo ISBNs)."""
    return stdnum_ean.calc_check_digit(first12)


def check_digit_10(first9: str) -> str:
    """The ISBN-10 check digit of 9 digits (weights 10 … 2, modulo 11; "X" for 10): what
    python-stdnum computes inside ``to_isbn10``, which has no public function for it."""
    check = (11 - sum((10 - i) * int(d) for i, d in enumerate(first9)) % 11) % 11
    return "X" if check == 10 else str(check)
