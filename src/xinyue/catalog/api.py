"""API operations of the catalog app (mounted under /api/v1/), DESIGN §11: catalog search and
titles, categories, picks, notices (public reads), the reader's bookshelf, and supplier stock."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import partial
from typing import Any, Literal

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from xinyue.accounts.api_auth import OPTIONAL_AUTH
from xinyue.catalog import web
from xinyue.catalog.models import Category, Pick, Title
from xinyue.catalog.selectors import portal
from xinyue.core.actors import Actor
from xinyue.core.errors import PermissionDenied
from xinyue.core.microcache import MicroCache
from xinyue.core.schemas import ErrorOut
from xinyue.suppliers.selectors import acting_supplier

router = Router(tags=["catalog"])


# Catalog reads are public; a token, if sent, still identifies the caller (their searches).
PUBLIC = OPTIONAL_AUTH


# --- schemas --------------------------------------------------------------------------------


class TitleItemOut(Schema):
    id: int
    isbn: str = Field(description="ISBN-13, digits only")
    title: str
    subtitle: str
    authors: list[str]
    publisher: str
    year: int | None
    category: str | None = Field(description="the category's name (the finest that fits)")
    list_price_fen: int
    in_stock: bool
    highlights: dict[str, str] = Field(
        default_factory=dict,
        description="search only: field → HTML snippet with <mark> around the matches",
    )


class FacetOut(Schema):
    value: str | int
    count: int


class FacetsOut(Schema):
    category: list[FacetOut]
    year: list[FacetOut]
    publisher: list[FacetOut]


class SearchOut(Schema):
    total: int
    total_is_exact: bool = Field(
        description="false when more titles match than are counted (total is then a floor)"
    )
    facets_are_exact: bool = Field(description="false when facets count only the first matches")
    page: int
    page_size: int
    normalized_query: str
    items: list[TitleItemOut]
    facets: FacetsOut


class SearchQuery(Schema):
    q: str = Field("", max_length=1000, description="words of a title, names, pinyin or ISBN")
    category: str | None = Field(None, max_length=40)
    publisher: str | None = Field(None, max_length=120)
    year_from: int | None = Field(None, ge=0, le=9999)
    year_to: int | None = Field(None, ge=0, le=9999)
    in_stock: bool = False
    title: str | None = Field(None, max_length=1000, description="advanced: words of the title")
    author: str | None = Field(None, max_length=1000, description="advanced: an author's name")
    subject: str | None = Field(None, max_length=1000, description="advanced: a subject")
    isbn: str | None = Field(None, max_length=40, description="advanced: an ISBN")
    sort: Literal["relevance", "newest", "popularity"] = "relevance"
    page: int = Field(1, ge=1, le=500)
    page_size: int = Field(20, ge=1, le=100)


class OfferOut(Schema):
    supplier_code: str
    supplier_name: str
    stock: int


class TitleOut(TitleItemOut):
    isbn10: str
    edition: str
    pages: int | None
    category_path: str | None = Field(description="e.g. 文学 › 侦探/悬疑/推理")
    clc_class: str
    subjects: str
    summary: str
    cover: str
    total_stock: int
    offers: list[OfferOut]


class SubCategoryOut(Schema):
    id: int
    name: str
    position: int


class CategoryOut(Schema):
    id: int
    name: str
    position: int
    show_on_home: bool
    children: list[SubCategoryOut]


class PickOut(Schema):
    kind: Literal["editor", "new"]
    position: int
    title: TitleItemOut


class NoticeOut(Schema):
    id: int
    title: str
    body: str
    city_code: str = Field(description="blank: the whole province")
    starts_at: dt.datetime
    ends_at: dt.datetime | None


class ShelfEntryOut(Schema):
    title_id: int
    title: TitleItemOut


class ShelfOut(Schema):
    count: int
    items: list[ShelfEntryOut]


class ShelfIn(Schema):
    title_id: int = Field(ge=1)


class StockIn(Schema):
    isbn: str = Field(max_length=40, description="ISBN-10 or ISBN-13, hyphens allowed")
    stock: int = Field(ge=0, le=1_000_000)
    supplier_code: str | None = Field(
        None, max_length=40, description="the operator names the supplier; a supplier key not"
    )


class StockOut(Schema):
    supplier_code: str
    isbn: str
    title_id: int
    stock: int


# --- helpers --------------------------------------------------------------------------------


def item_out(title: Title, *, categories: dict[int, str] | None = None) -> dict[str, Any]:
    if categories is not None:
        category = categories.get(title.category_id) if title.category_id else None
    else:
        category = title.category.name if title.category_id else None
    return {
        "id": title.pk,
        "isbn": title.isbn13,
        "title": title.title,
        "subtitle": title.subtitle,
        "authors": list(title.authors or []),
        "publisher": title.publisher,
        "year": title.year,
        "category": category,
        "list_price_fen": title.list_price_fen,
        "in_stock": bool(getattr(title, "in_stock", False)),
        "highlights": {k: str(v) for k, v in (getattr(title, "highlights", None) or {}).items()},
    }


def _facet_list(values: list) -> list[dict[str, Any]]:
    return [{"value": value, "count": count} for value, count in values or []]


# --- catalog --------------------------------------------------------------------------------


@router.get(
    "/catalog/search",
    response={200: SearchOut},
    auth=PUBLIC,
    summary="Search the catalog",
    description=(
        "Keywords over title, authors, publisher, subjects and ISBN in Chinese and English: "
        "words, names, pinyin (full or initials) and ISBNs in any form. Never fails on input: "
        "odd queries give results or an empty page. Each search is recorded (normalised term, "
        "result count, channel) for the monthly report, once per searcher and term in 30 "
        "minutes (a filter, another sort or page is the same search); clients must not report "
        "it again."
    ),
)
def search(request: HttpRequest, filters: Query[SearchQuery]) -> HttpResponse:
    fields = {
        name: value.strip()
        for name in ("title", "author", "subject", "isbn")
        if (value := getattr(filters, name)) and value.strip()
    }
    # What the engine found may come from the search result cache; the titles, their stock and
    # everything about this caller are read now.
    answer = _search_answer(request, filters, fields)
    web.record_search(
        request,
        normalized_query=answer.normalized_query,
        result_count=answer.total,
        page=filters.page,
    )
    return HttpResponse(answer.content, content_type=_api().get_content_type())


def _api() -> Any:
    """The API this router is mounted on (its renderer and content type, as for any answer)."""
    from xinyue.api import api

    return api


@dataclass(frozen=True)
class _SearchAnswer:
    """A search's response body, rendered once (``SearchOut``), and what its recording needs."""

    content: bytes
    normalized_query: str
    total: int


def _search_answer(
    request: HttpRequest, filters: SearchQuery, fields: dict[str, str]
) -> _SearchAnswer:
    from xinyue.catalog.selectors.search import category_tree, item_rows, search_titles

    result = search_titles(
        query=filters.q,
        category=filters.category or None,
        publisher=filters.publisher or None,
        year_from=filters.year_from,
        year_to=filters.year_to,
        in_stock=filters.in_stock,
        fields=fields or None,
        sort=filters.sort,
        page=filters.page,
        page_size=filters.page_size,
        with_items=False,
    )
    facets = result.facets or {}
    # Everything the envelope shows, exactly: the key of its rendering.
    shown = (
        result.total,
        result.total_is_exact,
        result.facets_are_exact,
        result.page,
        result.page_size,
        result.normalized_query,
        tuple(tuple(facets.get(name) or ()) for name in _FACETS),
    )
    head, tail = ENVELOPE_JSON.get_or_compute(shown, partial(_envelope_parts, request, shown))
    items = _items_json(
        request, item_rows(list(result.ids)), result.highlight_terms, category_tree()
    )
    return _SearchAnswer(
        content=b"".join((head, b'"items": [', items, b"]", tail)),
        normalized_query=result.normalized_query,
        total=result.total,
    )


_FACETS = ("category", "year", "publisher")


def _envelope_parts(request: HttpRequest, shown: tuple) -> tuple[bytes, bytes]:
    """The answer's JSON before and after its items, from what ``_search_answer`` keys it by."""
    total, total_is_exact, facets_are_exact, page, page_size, normalized_query, facets = shown
    # Built to ``SearchOut``'s shape (the contract tests check it): validating our own answer
    # again cost a fifth of a cached search. The items are spliced in as JSON (``_items_json``).
    body = {
        "total": total,
        "total_is_exact": total_is_exact,
        "facets_are_exact": facets_are_exact,
        "page": page,
        "page_size": page_size,
        "normalized_query": normalized_query,
        "items": [],
        "facets": {name: _facet_list(values) for name, values in zip(_FACETS, facets, strict=True)},
    }
    rendered = _render(request, body)
    # Keys are written unescaped and no string can hold an unescaped quote: this is the key.
    head, found, tail = rendered.partition(b'"items": []')
    if not found:
        raise RuntimeError("the rendered answer has no items key")
    return head, tail


# A search answer's envelope (totals, facets) rendered, keyed by every value it shows: a repeat
# of a search (its engine result from the result cache) renders no JSON but its items.
# docs/decisions.md, "The API search answer, second round".
ENVELOPE_JSON: MicroCache[tuple[bytes, bytes]] = MicroCache(
    ttl=lambda: settings.XINYUE_SEARCH_CACHE_SECONDS,
    max_entries=2_000,
    max_bytes=lambda: settings.XINYUE_SEARCH_ITEM_CACHE_MB * 1024 * 1024 // 4,
    weigh=lambda parts: 2 * (len(parts[0]) + len(parts[1])) + 200,
)


def _render(request: HttpRequest, data: Any) -> bytes:
    """``data`` as the API renders any answer (UTF-8 JSON)."""
    return _api().renderer.render(request, data, response_status=200).encode()


def _item_weight(parts: tuple[bytes, bytes]) -> int:
    # the two parts and, about as large again, the row kept in the key
    return 2 * (len(parts[0]) + len(parts[1])) + 400


# A search item's JSON (``TitleItemOut``) around its stock, keyed by everything it shows: the
# title's row as read on this request, its category's name and the terms highlighted. A title
# changed in any way, by any means, is another key; its stock is read with the row on every
# request and written between the two parts. docs/decisions.md, "The API search answer".
ITEM_JSON: MicroCache[tuple[bytes, bytes]] = MicroCache(
    ttl=lambda: settings.XINYUE_SEARCH_CACHE_SECONDS,
    max_entries=50_000,
    max_bytes=lambda: settings.XINYUE_SEARCH_ITEM_CACHE_MB * 1024 * 1024,
    weigh=_item_weight,
)
_IN_STOCK = b'"in_stock": false'


def _items_json(
    request: HttpRequest, rows: list[tuple], terms: tuple[Any, ...], tree: Any
) -> bytes:
    """The items of a search answer, comma-separated JSON objects, from ``item_rows``."""
    from xinyue.catalog.selectors.search import CATEGORY_INDEX

    names = []
    keys: list[tuple | None] = []
    for row in rows:
        category = tree.by_id.get(row[CATEGORY_INDEX]) if row[CATEGORY_INDEX] else None
        name = category.name if category is not None else None
        names.append(name)
        # A category the tree does not know yet has no name to key on: never kept.
        keys.append(None if row[CATEGORY_INDEX] and name is None else (row[:-1], name, terms))
    out = []
    for row, name, key, kept in zip(rows, names, keys, ITEM_JSON.get_many(keys), strict=True):
        if kept is not None:
            head, tail = kept
        else:
            compute = partial(_item_parts, request, row, name, terms, tree)
            head, tail = compute() if key is None else ITEM_JSON.get_or_compute(key, compute)
        out.append(head + (b'"in_stock": true' if row[-1] else _IN_STOCK) + tail)
    return b", ".join(out)


def _item_parts(
    request: HttpRequest, row: tuple, name: str | None, terms: tuple[Any, ...], tree: Any
) -> tuple[bytes, bytes]:
    """One item's JSON before and after its ``in_stock`` value."""
    from xinyue.catalog.selectors.search import title_from_item_row

    title = title_from_item_row(row, terms, tree)
    title.in_stock = False
    text = _render(request, item_out(title, categories=_category_of(title, name)))
    head, found, tail = text.partition(_IN_STOCK)
    if not found:
        raise RuntimeError("a rendered item has no in_stock key")
    return head, tail


def _category_of(title: Title, name: str | None) -> dict[int, str]:
    """``item_out``'s category names for one title (a category the tree does not know yet —
    created in another process a moment ago — is read)."""
    if not title.category_id:
        return {}
    if name is not None:
        return {title.category_id: name}
    return portal.category_names([title.category_id])


@router.get(
    "/catalog/titles/{title_id}",
    response={200: TitleOut, 404: ErrorOut},
    auth=PUBLIC,
    summary="One title: metadata, offers and stock",
    description="Opening a title is recorded as a title click for the monthly report.",
)
def title_detail(request: HttpRequest, title_id: int) -> dict[str, Any]:
    title = portal.title_detail(title_id=title_id)
    web.record_title_view(request, title_id=title.pk)
    offers = list(title.offers.all())
    return {
        **item_out(title),
        "isbn10": title.isbn10,
        "edition": title.edition,
        "pages": title.pages,
        "category_path": title.category.path if title.category_id else None,
        "clc_class": title.clc_class,
        "subjects": title.subjects,
        "summary": title.summary,
        "cover": title.cover,
        "total_stock": sum(o.stock for o in offers),
        "offers": [
            {"supplier_code": o.supplier.code, "supplier_name": o.supplier.name, "stock": o.stock}
            for o in offers
        ],
    }


@router.get(
    "/catalog/categories",
    response=list[CategoryOut],
    auth=PUBLIC,
    summary="The category tree (two levels, in display order)",
)
def categories(request: HttpRequest) -> list[Category]:
    return portal.category_tree()


@router.get(
    "/catalog/picks",
    response=list[PickOut],
    auth=PUBLIC,
    summary="Editor's picks (主编推荐) and new books (新书推荐), in the operator's order",
)
def picks(
    request: HttpRequest, kind: Literal["editor", "new"] | None = None
) -> list[dict[str, Any]]:
    kinds = [kind] if kind else [Pick.Kind.EDITOR, Pick.Kind.NEW]
    out = []
    for each in kinds:
        for position, title in enumerate(portal.picked_titles(kind=each, limit=100)):
            out.append({"kind": each, "position": position, "title": item_out(title)})
    return out


@router.get(
    "/notices",
    response=list[NoticeOut],
    auth=PUBLIC,
    summary="Notices in force (通知)",
    description="With `city_code` (a city's division code): that city's first, then the "
    "province-wide ones. Without: all, province-wide first.",
)
def notices(request: HttpRequest, city_code: str | None = Query(None, max_length=12)) -> list:
    return portal.active_notices(city_code=city_code or None)


# --- bookshelf ------------------------------------------------------------------------------


def _reader_id(request: HttpRequest) -> int:
    reader_id = web.reader_id_of(request)
    if reader_id is None:
        raise PermissionDenied(_("只有读者有书架"))
    return reader_id


def _shelf(request: HttpRequest, reader_id: int) -> dict[str, Any]:
    titles = portal.titles_by_ids(portal.shelf_title_ids(reader_id=reader_id))
    return {
        "count": len(titles),
        "items": [{"title_id": t.pk, "title": item_out(t)} for t in titles],
    }


@router.get(
    "/bookshelf",
    response={200: ShelfOut, 403: ErrorOut},
    summary="The reader's bookshelf (我的书架), last added first",
)
def shelf(request: HttpRequest) -> dict[str, Any]:
    reader_id = _reader_id(request)
    web.sync_shelf(request)
    return _shelf(request, reader_id)


@router.post(
    "/bookshelf",
    response={201: ShelfOut, 200: ShelfOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut},
    summary="Put a title on the bookshelf",
    description="201 when added, 200 when it was already there; the response is the shelf.",
)
def shelf_add(request: HttpRequest, payload: ShelfIn) -> Status:
    reader_id = _reader_id(request)
    already = payload.title_id in portal.shelf_title_ids(reader_id=reader_id)
    web.add_to_shelf(request, payload.title_id)
    return Status(200 if already else 201, _shelf(request, reader_id))


@router.delete(
    "/bookshelf/{title_id}",
    response={204: None, 403: ErrorOut},
    summary="Take a title off the bookshelf (204 whether or not it was there)",
)
def shelf_remove(request: HttpRequest, title_id: int) -> Status:
    _reader_id(request)
    web.remove_from_shelf(request, title_id)
    return Status(204, None)


# --- supplier stock -------------------------------------------------------------------------


@router.post(
    "/supplier/stock",
    response={200: StockOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    tags=["supplier"],
    summary="Set a supplier's stock of a title (by ISBN)",
    description="A supplier key sets its own stock; the operator names the supplier.",
)
def supplier_stock(request: HttpRequest, payload: StockIn) -> dict[str, Any]:
    from xinyue.catalog.services.offers import update_stock

    actor: Actor = request.auth  # type: ignore[assignment]
    supplier = acting_supplier(actor=actor, supplier_code=payload.supplier_code)
    offer = update_stock(actor=actor, supplier=supplier, isbn=payload.isbn, stock=payload.stock)
    return {
        "supplier_code": supplier.code,
        "isbn": offer.title.isbn13,
        "title_id": offer.title_id,
        "stock": offer.stock,
    }
