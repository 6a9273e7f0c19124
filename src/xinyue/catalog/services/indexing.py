"""Keeping the search index in step with the titles.

Every service that creates or changes a title calls ``index_titles`` inside its own transaction,
so the index changes exactly when the title does (visible at commit, well under a second). Only
active titles have a search document. Whatever changes what a search can find also bumps the
catalog generation (``catalog_changed``), in the same transaction, so no process answers from
results cached before the change (``selectors.search.RESULTS``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

from django.db import transaction

from xinyue.catalog.models import SearchDocument, Title
from xinyue.catalog.search.backends import get_backend
from xinyue.catalog.search.plan import Document, build_document, docid
from xinyue.catalog.selectors.search import GENERATION, GENERATION_KEY
from xinyue.core import audit, counters
from xinyue.core.actors import Actor
from xinyue.core.permissions import require_operator

_FIELDS = (
    "id",
    "title",
    "subtitle",
    "authors",
    "publisher",
    "subjects",
    "isbn13",
    "isbn10",
    "category_id",
    "popularity",
)


def document_for(row: dict) -> Document:
    return build_document(
        title=row["title"],
        subtitle=row["subtitle"],
        authors=row["authors"] or [],
        publisher=row["publisher"],
        subjects=row["subjects"],
        isbn13=row["isbn13"],
        isbn10=row["isbn10"],
        category_id=row["category_id"],
    )


def _entry(row: dict) -> tuple[int, int, Document]:
    return row["id"], docid(row["id"], row["popularity"]), document_for(row)


# The generation never expires (the shared counters' expiry, a century on).
_GENERATION_TTL_S = 100 * 365 * 86400


def catalog_changed() -> int:
    """Bump the catalog generation, inside the caller's transaction: titles, offers or
    categories changed in a way a search can see (not a stock level: the titles of a result
    page are read fresh). Every process stops using its cached results once it sees the new
    number; this one at once, the others within ``XINYUE_SEARCH_GENERATION_CHECK_MS``."""
    generation = counters.hit(GENERATION_KEY, ttl_seconds=_GENERATION_TTL_S)
    # This process reads the number again on its next search (in this transaction it sees the
    # new one) and once more after the commit (its other threads see it then).
    GENERATION.forget()
    transaction.on_commit(GENERATION.forget)
    return generation


def index_titles(*, title_ids: Iterable[int]) -> int:
    """Rebuild the search documents of these titles. Returns how many are now indexed."""
    ids = sorted(set(title_ids))
    if not ids:
        return 0
    catalog_changed()
    backend = get_backend()
    indexed = 0
    for start in range(0, len(ids), 2000):
        chunk = ids[start : start + 2000]
        rows = Title.objects.filter(id__in=chunk, is_active=True).values(*_FIELDS)
        backend.delete_documents(chunk)
        docs = [_entry(row) for row in rows]
        backend.insert_documents(docs)
        indexed += len(docs)
    return indexed


def rebuild_index(
    *,
    batch_size: int = 5000,
    progress: Callable[[int, int], None] | None = None,
    title_model: type[Title] = Title,
) -> int:
    """Drop every search document and index all active titles again (after a tokenizer or
    dictionary change, or a bulk load). Returns the number of indexed titles.

    A data migration passes its historical ``Title`` model as ``title_model`` (the tokens are
    always today's)."""
    backend = get_backend()
    total = title_model.objects.filter(is_active=True).count()
    done = 0
    with transaction.atomic():
        backend.clear()
        last_id = 0
        while True:
            rows = list(
                title_model.objects.filter(is_active=True, id__gt=last_id)
                .order_by("id")
                .values(*_FIELDS)[:batch_size]
            )
            if not rows:
                break
            backend.insert_documents(_entry(row) for row in rows)
            last_id = rows[-1]["id"]
            done += len(rows)
            if progress is not None:
                progress(done, total)
        backend.optimize()
        if title_model is Title:  # a migration runs before the servers start again
            catalog_changed()
    return done


def rebuild_search_index(*, actor: Actor) -> int:
    """The operator's "rebuild the search index" (e.g. after a dictionary upgrade)."""
    require_operator(actor)
    count = rebuild_index()
    with transaction.atomic():
        audit.record(actor=actor, action="catalog.search_index_rebuilt", titles=count)
    return count


def indexed_count() -> int:
    return SearchDocument.objects.count()


def set_popularity(*, popularity: Mapping[int, int]) -> int:
    """Store titles' popularity and move the ones whose popularity bucket changed to their new
    place in the index order. Returns how many moved."""
    return store_popularity(popularity=popularity)[1]


def store_popularity(*, popularity: Mapping[int, int]) -> tuple[int, int]:
    """``set_popularity`` in batches: (titles whose popularity changed, documents moved). A move
    only rewrites the document's ``docid`` (its tokens stay), so a daily refresh that changes
    many titles stays cheap."""
    backend = get_backend()
    changed = moved = 0
    ids = list(popularity)
    with transaction.atomic():
        for start in range(0, len(ids), 2000):
            chunk = ids[start : start + 2000]
            current = dict(Title.objects.filter(id__in=chunk).values_list("id", "popularity"))
            updates = [
                Title(id=i, popularity=max(0, int(popularity[i])))
                for i in chunk
                if i in current and current[i] != max(0, int(popularity[i]))
            ]
            Title.objects.bulk_update(updates, ["popularity"], batch_size=500)
            moves = {
                t.id: docid(t.id, t.popularity)
                for t in updates
                if docid(t.id, t.popularity) != docid(t.id, current[t.id])
            }
            moved += backend.move_documents(moves)
            changed += len(updates)
        if changed:
            catalog_changed()  # the order of results follows popularity
    return changed, moved
