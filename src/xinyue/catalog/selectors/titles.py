"""Reads of single titles: by their public handle, the ISBN (in any form); their orderable copies."""

from __future__ import annotations

from django.db.models import Sum

from xinyue.catalog.models import Offer, Title
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


def orderable_copies(title_id: int) -> int:
    """Copies an order could take now: stock of the title's active offers of active suppliers
    (the offers ``services.offers.take_stock`` takes from)."""
    total = Offer.objects.filter(
        title_id=title_id, is_active=True, supplier__is_active=True
    ).aggregate(s=Sum("stock"))["s"]
    return total or 0
