"""Template helpers of circulation for other apps' pages (我的借阅)."""

from __future__ import annotations

from django import template

from xinyue.circulation.selectors import reader_blocks
from xinyue.circulation.services.returns import return_methods

register = template.Library()


@register.simple_tag
def loan_return_methods(loan) -> list[str]:
    """The ways the lending library lets this loan be returned besides a desk or kiosk."""
    return return_methods(loan)


@register.simple_tag
def loan_blocks(reader) -> list:
    """What stops ``reader`` borrowing or renewing now, each with what clears it (我的借阅)."""
    return reader_blocks(reader)
