"""Reads of single titles by their public handle, the ISBN (in any form)."""

from __future__ import annotations

from xinyue.catalog.models import Title
from xinyue.catalog.search.isbn import parse_isbn


def title_by_isbn(isbn: str, *, active_only: bool = True) -> Title | None:
    """The title with this ISBN (10 or 13 digits, hyphens or not), or None."""
    parsed = parse_isbn(isbn or "")
    if parsed is None:
        return None
    titles = Title.objects.select_related("category", "category__parent")
    if active_only:
        titles = titles.filter(is_active=True)
    return titles.filter(isbn13=parsed.isbn13).first()
