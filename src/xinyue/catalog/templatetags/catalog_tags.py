"""Template helpers for the catalog pages: prices in yuan, cover placeholder tones."""

from __future__ import annotations

from django import template

from xinyue.core.money import fen_to_yuan

register = template.Library()

COVER_TONES = 6


@register.filter
def yuan(fen: int | None) -> str:
    """``4500`` → ``45.00``."""
    return fen_to_yuan(int(fen or 0))


@register.filter
def cover_tone(title_id: int | None) -> int:
    """A stable colour for a title's generated cover (the CSS has ``tone-0`` … ``tone-5``)."""
    return int(title_id or 0) % COVER_TONES


@register.filter
def local_cover(cover: str | None) -> str:
    """A cover we can show under our CSP (images from this site only), else ''."""
    cover = (cover or "").strip()
    return cover if cover.startswith("/") and not cover.startswith("//") else ""
