"""The bookshelf count shown in every page header."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


def bookshelf(request: HttpRequest) -> dict[str, Any]:
    # The bookshelf arrives with the catalog issue; until then every shelf is empty.
    return {"shelf_count": 0}
