"""Template helpers for member libraries' public data."""

from __future__ import annotations

from django import template
from django.utils.translation import gettext as _

from xinyue.core.money import format_fen
from xinyue.libraries.models import Library
from xinyue.libraries.settings_schema import library_setting

register = template.Library()


@register.filter
def deposit(library: Library | None) -> str:
    """The deposit of a deposit card at this library's desk, or an honest "not known here"."""
    if library is None:
        return ""
    fen = library_setting(library, "deposit_fen")
    if fen is None:
        return _("以馆内公告为准")
    if fen == 0:
        return _("无需押金")
    return format_fen(fen)
