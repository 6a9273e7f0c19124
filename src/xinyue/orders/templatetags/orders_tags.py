"""Template tags the pages of lower apps use to offer ordering without importing orders: the
bookshelf's "借这些书" bar with the reader's limits."""

from __future__ import annotations

from typing import Any

from django import template

from xinyue.catalog.web import reader_id_of
from xinyue.orders.selectors import ordering_limits

register = template.Library()


@register.inclusion_tag("orders/_shelf_order_bar.html", takes_context=True)
def shelf_order_bar(context: dict[str, Any]) -> dict[str, Any]:
    """The per-order maximum and the platform quota left, for the reader behind the request."""
    request = context["request"]
    reader_id = reader_id_of(request)
    return {
        "is_reader": reader_id is not None,
        "limits": ordering_limits(reader_id=reader_id) if reader_id is not None else None,
        "next_path": request.path,
    }
