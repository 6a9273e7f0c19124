"""Suppliers' offers: stock updates (also exposed to suppliers over the API)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xinyue.catalog.errors import TitleNotFound
from xinyue.catalog.models import Offer, Title
from xinyue.catalog.search.isbn import isbn_problem, parse_isbn
from xinyue.catalog.services.indexing import catalog_changed
from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.hooks import Hook
from xinyue.core.permissions import require_supplier
from xinyue.suppliers.models import Supplier

MAX_STOCK = 1_000_000

# Who hears, after the commit, that titles have copies again: ``listener(title_ids=[…])``
# (orders' wait-list, registered in its ``AppConfig.ready``: the catalog never imports orders).
copies_back: Hook[Callable[..., Any]] = Hook("catalog.copies_back")


def stock_came_back(*, title_ids: Iterable[int]) -> None:
    """Tell the listeners, after the commit, that ``title_ids`` have copies again."""
    ids = sorted(set(title_ids))
    if not ids or not copies_back:
        return

    def tell() -> None:
        copies_back.each(title_ids=ids)

    transaction.on_commit(tell)


@transaction.atomic
def update_stock(*, actor: Actor, supplier: Supplier, isbn: str, stock: int) -> Offer:
    """Set the supplier's stock of a title (by ISBN in any form). A supplier that had no offer
    for the title gets one, priced at the list price."""
    require_supplier(actor, supplier.pk)
    problem = isbn_problem(str(isbn or ""))
    if problem:
        raise InvalidInput(fields={"isbn": problem})
    if isinstance(stock, bool) or not isinstance(stock, int) or not 0 <= stock <= MAX_STOCK:
        raise InvalidInput(fields={"stock": _("库存应为 0–%(max)s 的整数") % {"max": MAX_STOCK}})
    parsed = parse_isbn(isbn)
    title = Title.objects.filter(isbn13=parsed.isbn13).first()
    if title is None:
        raise TitleNotFound(isbn=parsed.isbn13)
    offer = Offer.objects.select_for_update().filter(supplier=supplier, title=title).first()
    before = offer.stock if offer is not None else None
    if offer is None:
        offer = Offer.objects.create(
            supplier=supplier, title=title, stock=stock, price_fen=title.list_price_fen
        )
        catalog_changed()  # a new offer (a stock level alone needs no new generation)
    elif offer.stock != stock:
        offer.stock = stock
        offer.save(update_fields=["stock", "updated_at"])
    if stock > (before or 0):
        stock_came_back(title_ids=[title.pk])
    audit.record(
        actor=actor,
        action="offer.stock_updated",
        obj=offer,
        isbn=title.isbn13,
        supplier=supplier.code,
        before=before,
        after=stock,
    )
    return offer


def take_stock(*, title_id: int) -> tuple[int, int] | None:
    """Take one copy of ``title_id`` for an order from the active offer (of an active supplier)
    with the most copies; ``(offer_id, supplier_id)``, or None when no offer has one left.

    Call inside the ordering transaction. One conditional statement picks and takes the copy:
    ``UPDATE … SET stock = stock - 1 WHERE id = (best offer) AND stock > 0 RETURNING …``; under
    concurrency the ``stock > 0`` is re-checked on the locked row (PostgreSQL re-evaluates it
    after waiting for a concurrent writer), so the last copy cannot be taken twice. An offer
    emptied meanwhile answers no row and the next best is tried."""
    with connection.cursor() as cursor:
        for _attempt in range(8):
            cursor.execute(_TAKE_COPY, [title_id])
            row = cursor.fetchone()
            if row is not None:
                return row[0], row[1]
            cursor.execute(_ANY_COPY, [title_id])
            if cursor.fetchone() is None:
                return None
    return None


_BEST_OFFER = """
    SELECT o.id FROM catalog_offer o JOIN catalog_supplier s ON s.id = o.supplier_id
    WHERE o.title_id = %s AND o.is_active AND o.stock > 0 AND s.is_active
    ORDER BY o.stock DESC, o.id LIMIT 1"""
_TAKE_COPY = f"""
    UPDATE catalog_offer SET stock = stock - 1
    WHERE id = ({_BEST_OFFER}) AND is_active AND stock > 0
    RETURNING id, supplier_id"""
_ANY_COPY = _BEST_OFFER


def return_stock(*, offer_id: int, count: int = 1) -> None:
    """Give back copies an order held (cancelled order, rejected line), in the caller's
    transaction."""
    Offer.objects.filter(pk=offer_id).update(stock=F("stock") + count)
    if copies_back:
        title_ids = Offer.objects.filter(pk=offer_id).values_list("title_id", flat=True)
        stock_came_back(title_ids=list(title_ids))
