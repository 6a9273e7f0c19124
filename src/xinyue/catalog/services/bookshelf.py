"""The bookshelf (我的书架): titles a reader means to order. Kept per reader in the database;
an anonymous visitor's shelf lives in the session and is merged in here at login."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils.translation import gettext as _

from xinyue.catalog.errors import ShelfFull, TitleNotFound
from xinyue.catalog.models import ShelfEntry, Title
from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.permissions import Action, require_reader
from xinyue.readers.models import Reader


def shelf_limit() -> int:
    """How many titles a shelf holds (``XINYUE_SHELF_LIMIT``, default 100)."""
    return settings.XINYUE_SHELF_LIMIT


def require_shelf_owner(actor: Actor, reader_id: int) -> None:
    """Only the reader (or the platform's own jobs) touches a reader's shelf."""
    require_reader(actor, reader_id, Action.USE_BOOKSHELF, message=_("只能操作自己的书架"))


def _shelf_title(title_id: int) -> Title:
    title = Title.objects.filter(pk=title_id, is_active=True).first()
    if title is None:
        raise TitleNotFound(title_id=title_id)
    return title


@transaction.atomic
def add_to_shelf(*, actor: Actor, reader_id: int, title_id: int) -> ShelfEntry:
    """Put a title on the shelf; a title already there stays as it is (same entry back)."""
    require_shelf_owner(actor, reader_id)
    title = _shelf_title(title_id)
    existing = ShelfEntry.objects.filter(reader_id=reader_id, title=title).first()
    if existing is not None:
        return existing
    limit = shelf_limit()
    if ShelfEntry.objects.filter(reader_id=reader_id).count() >= limit:
        raise ShelfFull(limit=limit)
    try:
        with transaction.atomic():
            entry = ShelfEntry.objects.create(reader_id=reader_id, title=title)
    except IntegrityError:
        # The same title added twice at once (a double tap): the other request won.
        return ShelfEntry.objects.get(reader_id=reader_id, title=title)
    audit.record(actor=actor, action="shelf.added", obj=entry, title_id=title.pk)
    return entry


@transaction.atomic
def remove_from_shelf(*, actor: Actor, reader_id: int, title_id: int) -> bool:
    """Take a title off the shelf; False when it was not there (nothing changed)."""
    require_shelf_owner(actor, reader_id)
    deleted, _ = ShelfEntry.objects.filter(reader_id=reader_id, title_id=title_id).delete()
    if deleted:
        audit.record(
            actor=actor,
            action="shelf.removed",
            object_type="catalog.shelfentry",
            object_id=f"{reader_id}:{title_id}",
            title_id=title_id,
        )
    return bool(deleted)


@transaction.atomic
def merge_shelf(*, actor: Actor, reader_id: int, title_ids: Iterable[int]) -> list[int]:
    """Add an anonymous shelf's titles to the reader's, in the order they were added.

    Titles already there, unknown or withdrawn ones are skipped; so is whatever would pass
    the shelf limit. Returns the ids actually added.
    """
    require_shelf_owner(actor, reader_id)
    return _add_titles(actor, reader_id, title_ids, action="shelf.merged")


def take_ordered_off_shelves(*, ordered: Sequence[tuple[int, int]]) -> int:
    """The ordering service's: each (reader id, title id) just ordered leaves that reader's shelf,
    one DELETE for a whole batch of orders, in the ordering transaction (so a refused order
    leaves the shelf as it was). No audit row of its own: the order's audit row names the titles.
    Returns how many entries went."""
    pairs = sorted(set(ordered))
    if not pairs:
        return 0
    values = ", ".join(["(%s, %s)"] * len(pairs))
    with connection.cursor() as cursor:  # SQL: written for every ordering batch
        cursor.execute(
            f"DELETE FROM {ShelfEntry._meta.db_table} WHERE (reader_id, title_id) IN"
            f" (VALUES {values})",
            [n for pair in pairs for n in pair],
        )
        return cursor.rowcount


@transaction.atomic
def put_back_on_shelf(
    *, actor: Actor, reader_id: int, title_ids: Iterable[int], order_number: str
) -> list[int]:
    """An order closed without the reader getting its books (the provider refused the credit
    order, the confirmation window passed): its titles go back on the shelf, as merging does
    (already there, withdrawn or past the limit: skipped). Returns the ids put back."""
    require_shelf_owner(actor, reader_id)
    return _add_titles(actor, reader_id, title_ids, action="shelf.added", order=order_number)


def _add_titles(
    actor: Actor, reader_id: int, title_ids: Iterable[int], *, action: str, **detail: Any
) -> list[int]:
    wanted = list(dict.fromkeys(int(t) for t in title_ids))
    present = set(ShelfEntry.objects.filter(reader_id=reader_id).values_list("title_id", flat=True))
    active = set(Title.objects.filter(pk__in=wanted, is_active=True).values_list("pk", flat=True))
    room = max(shelf_limit() - len(present), 0)
    added = [t for t in wanted if t in active and t not in present][:room]
    if added:
        ShelfEntry.objects.bulk_create(
            [ShelfEntry(reader_id=reader_id, title_id=t) for t in added],
            ignore_conflicts=True,
        )
        audit.record(
            actor=actor,
            action=action,
            object_type="readers.reader",
            object_id=reader_id,
            title_ids=added,
            **detail,
        )
    return added


# --- the reader's rights (``xinyue.readers.services.rights`` hooks, see settings) ------------


def export_shelf(*, reader) -> tuple[str, list[dict]]:
    """The reader's bookshelf for their data export."""
    entries = ShelfEntry.objects.filter(reader=reader).select_related("title").order_by("added_at")
    return "bookshelf", [
        {
            "title_id": e.title_id,
            "isbn": e.title.isbn13,
            "title": e.title.title,
            "added_at": e.added_at.isoformat(),
        }
        for e in entries
    ]


def erase_shelf(*, actor: Actor, reader: Reader) -> None:
    """Account deletion: the shelf goes (it says what the reader meant to read)."""
    ShelfEntry.objects.filter(reader=reader).delete()
