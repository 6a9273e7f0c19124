"""The unread-message count shown in every page header of a signed-in reader."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from xinyue.readers.selectors.identity import reader_from_request
from xinyue.readers.selectors.messages import unread_count


def messages(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.kind != "reader":
        return {}
    reader = reader_from_request(request)
    return {"unread_messages": unread_count(reader_id=reader.pk) if reader else 0}
