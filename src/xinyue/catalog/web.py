"""Request-level helpers shared by the portal pages, the header's context processor and the
catalog API: who the reader behind a request is, which channel they came through, their
bookshelf (the session for anonymous visitors, the database for readers — merged at login),
and recording what they searched and opened.

Interface glue only: every change goes through ``services.bookshelf``.
"""

from __future__ import annotations

from django.http import HttpRequest

from xinyue.accounts.middleware import request_actor as actor_of
from xinyue.accounts.middleware import request_channel
from xinyue.catalog.selectors import portal
from xinyue.catalog.services import bookshelf
from xinyue.core.actors import Actor, Channel
from xinyue.core.clients import client_key
from xinyue.insights.models import EventType
from xinyue.insights.services import record_event, record_search_event

SHELF_SESSION_KEY = "shelf"


# --- who and where --------------------------------------------------------------------------


def request_actor(request: HttpRequest) -> Actor | None:
    """The actor of an API request or a page (decided once, by ``accounts.middleware``)."""
    return actor_of(request)


def reader_id_of(request: HttpRequest) -> int | None:
    """The active reader behind a page session or a reader token, if any (once per request)."""
    cached = getattr(request, "_xinyue_shelf_reader_id", 0)
    if cached != 0:
        return cached
    from xinyue.readers.selectors import reader_from_request

    reader = reader_from_request(request)
    request._xinyue_shelf_reader_id = reader.pk if reader else None  # type: ignore[attr-defined]
    return request._xinyue_shelf_reader_id  # type: ignore[attr-defined]


def channel_of(request: HttpRequest) -> Channel:
    """The request's channel (the rule lives in ``accounts.middleware``)."""
    return request_channel(request)


# --- the bookshelf of a request -------------------------------------------------------------


def _session_ids(request: HttpRequest) -> list[int]:
    raw = request.session.get(SHELF_SESSION_KEY) or []
    return [int(i) for i in raw if isinstance(i, int) or (isinstance(i, str) and i.isdigit())]


def reader_actor(request: HttpRequest, reader_id: int) -> Actor:
    """The reader's own actor; anything else acting on a reader's shelf is refused."""
    actor = request_actor(request)
    if actor is None or actor.reader_id != reader_id:
        from xinyue.core.errors import PermissionDenied

        raise PermissionDenied()
    return actor


def sync_shelf(request: HttpRequest) -> int | None:
    """For a reader, merge a shelf they filled before logging in (once) and return their id."""
    reader_id = reader_id_of(request)
    if reader_id is None or not hasattr(request, "session"):
        return reader_id
    if SHELF_SESSION_KEY in request.session:
        pending = _session_ids(request)
        if pending:
            bookshelf.merge_shelf(
                actor=reader_actor(request, reader_id), reader_id=reader_id, title_ids=pending
            )
        del request.session[SHELF_SESSION_KEY]
    return reader_id


def shelf_ids(request: HttpRequest) -> list[int]:
    """The title ids on the shelf, last added first."""
    reader_id = sync_shelf(request)
    if reader_id is not None:
        return portal.shelf_title_ids(reader_id=reader_id)
    if not hasattr(request, "session"):
        return []
    return portal.visible_title_ids(reversed(_session_ids(request)))


def shelf_count(request: HttpRequest) -> int:
    reader_id = sync_shelf(request)
    if reader_id is not None:
        return portal.shelf_count(reader_id=reader_id)
    if not hasattr(request, "session") or SHELF_SESSION_KEY not in request.session:
        return 0
    return len(portal.visible_title_ids(_session_ids(request)))


def add_to_shelf(request: HttpRequest, title_id: int) -> None:
    reader_id = sync_shelf(request)
    if reader_id is not None:
        bookshelf.add_to_shelf(
            actor=reader_actor(request, reader_id), reader_id=reader_id, title_id=title_id
        )
        return
    # Anonymous: the same rules as a reader's shelf (visible title, size limit), in the session.
    portal.title_detail(title_id=title_id)
    ids = _session_ids(request)
    if title_id in ids:
        return
    if len(ids) >= bookshelf.shelf_limit():
        from xinyue.catalog.errors import ShelfFull

        raise ShelfFull(limit=bookshelf.shelf_limit())
    request.session[SHELF_SESSION_KEY] = [*ids, title_id]


def remove_from_shelf(request: HttpRequest, title_id: int) -> bool:
    reader_id = sync_shelf(request)
    if reader_id is not None:
        return bookshelf.remove_from_shelf(
            actor=reader_actor(request, reader_id), reader_id=reader_id, title_id=title_id
        )
    ids = _session_ids(request)
    if title_id not in ids:
        return False
    request.session[SHELF_SESSION_KEY] = [i for i in ids if i != title_id]
    return True


# --- events ---------------------------------------------------------------------------------


def record_search(
    request: HttpRequest, *, normalized_query: str, result_count: int, page: int = 1
) -> None:
    reader_id = reader_id_of(request)
    record_search_event(
        channel=channel_of(request),
        reader_id=reader_id,
        client=f"r{reader_id}" if reader_id else client_key(request, purpose="search"),
        path=request.path,
        query=normalized_query,
        result_count=result_count,
        page=page,
    )


def record_title_view(request: HttpRequest, *, title_id: int) -> None:
    record_event(
        type=EventType.CLICK,
        channel=channel_of(request),
        reader_id=reader_id_of(request),
        path=request.path,
        title_id=title_id,
    )


def record_page_view(request: HttpRequest) -> None:
    record_event(
        type=EventType.PAGE_VIEW,
        channel=channel_of(request),
        reader_id=reader_id_of(request),
        path=request.path,
    )
