"""The bookshelf count shown in every page header (and the reader's shelf merged at login)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinyue.catalog import web


def bookshelf(request: HttpRequest) -> dict[str, Any]:
    return {"shelf_count": web.shelf_count(request)}
