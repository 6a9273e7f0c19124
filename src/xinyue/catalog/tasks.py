"""Background bodies of the catalog app (thin: the rules live in services)."""

from __future__ import annotations

from xinyue.core.schedules import crontab, periodic


@periodic(crontab(minute="25", hour="4"))
def refresh_title_popularity() -> int:
    """Once a day (decay counts whole days): recompute titles' popularity from what readers did
    and move the titles whose place in the index order changed. Returns how many changed."""
    from xinyue.catalog.services.popularity import refresh_popularity

    return refresh_popularity().changed
