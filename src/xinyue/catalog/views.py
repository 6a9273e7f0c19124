"""Reader portal pages of the catalog: home, search (simple and advanced), title detail,
category browsing and the bookshelf. Thin: reads come from selectors (the search engine's
``search_titles`` and ``selectors.portal``), changes go through services."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import get_template
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.catalog import web
from xinyue.catalog.errors import CategoryNotFound, TitleNotFound
from xinyue.catalog.models import Pick
from xinyue.catalog.selectors import portal
from xinyue.core.errors import DomainError
from xinyue.core.microcache import MicroCache
from xinyue.insights.selectors import popular_search_terms
from xinyue.libraries import selectors as library_selectors
from xinyue.libraries.views import CITY_SESSION_KEY

PAGE_SIZE = 20
MAX_PAGE = 500  # deeper than anybody pages; keeps offsets bounded
SORTS = {
    "relevance": gettext_lazy("相关度"),
    "newest": gettext_lazy("最新出版"),
    "popularity": gettext_lazy("最受欢迎"),
}
# Advanced search: the per-field boxes (GET name → the engine's field name).
FIELD_PARAMS = {"title": "title", "author": "author", "subject": "subject", "isbn": "isbn"}
FIELD_LABELS = {
    "title": gettext_lazy("书名"),
    "author": gettext_lazy("作者"),
    "subject": gettext_lazy("主题"),
    "isbn": "ISBN",
}
TEXT_MAX = 1000


# --- home -----------------------------------------------------------------------------------


def home(request: HttpRequest) -> HttpResponse:
    cities = library_selectors.cities()
    city_code = request.session.get(CITY_SESSION_KEY) or (cities[0].code if cities else "")
    current_city = next((c for c in cities if c.code == city_code), None)
    web.record_page_view(request)
    return render(
        request,
        "catalog/home.html",
        {
            "cities": cities,
            "current_city": current_city,
            "city_libraries": library_selectors.libraries_in_city(city_code=city_code)
            if city_code
            else [],
            "categories": portal.home_categories(),
            "notices": portal.active_notices(city_code=city_code or None, limit=5),
            "picks": portal.picked_titles(kind=Pick.Kind.EDITOR),
            "new_books": portal.new_books(),
        },
    )


# --- search ---------------------------------------------------------------------------------


def _text(value: str | None) -> str:
    return " ".join((value or "").split())[:TEXT_MAX]


def _int(value: str | None, *, low: int, high: int) -> int | None:
    try:
        number = int((value or "").strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


@dataclass
class SearchParams:
    """What the reader asked for, read leniently: a value that makes no sense is dropped,
    never an error (search must not fail on user input)."""

    q: str = ""
    category: str = ""
    publisher: str = ""
    year_from: int | None = None
    year_to: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    page: int = 1
    fields: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_query(cls, data: Any) -> SearchParams:
        fields = {
            engine: _text(data.get(param))
            for param, engine in FIELD_PARAMS.items()
            if _text(data.get(param))
        }
        sort = data.get("sort") or "relevance"
        return cls(
            q=_text(data.get("q")),
            category=_text(data.get("category"))[:40],
            publisher=_text(data.get("publisher"))[:120],
            year_from=_int(data.get("year_from"), low=1000, high=2100),
            year_to=_int(data.get("year_to"), low=1000, high=2100),
            in_stock=(data.get("in_stock") or "") in {"1", "on", "true", "yes"},
            sort=sort if sort in SORTS else "relevance",
            page=_int(data.get("page"), low=1, high=MAX_PAGE) or 1,
            fields=fields,
        )

    @property
    def has_terms(self) -> bool:
        return bool(self.q or self.fields)

    @property
    def has_filters(self) -> bool:
        return bool(
            self.category or self.publisher or self.year_from or self.year_to or self.in_stock
        )

    def as_query(self, **changes: Any) -> dict[str, Any]:
        """The GET parameters of this search, with ``changes`` (None removes a parameter)."""
        params: dict[str, Any] = {"q": self.q}
        params.update({p: self.fields.get(e, "") for p, e in FIELD_PARAMS.items()})
        params.update(
            category=self.category,
            publisher=self.publisher,
            year_from=self.year_from,
            year_to=self.year_to,
            in_stock="1" if self.in_stock else "",
            sort="" if self.sort == "relevance" else self.sort,
            page=self.page if self.page > 1 else "",
        )
        params.update(changes)
        if params.get("page") == 1:
            params["page"] = None
        return {k: v for k, v in params.items() if v not in (None, "")}

    def url(self, **changes: Any) -> str:
        changes.setdefault("page", None)  # any new filter starts again at page 1
        return "/search/?" + urlencode(self.as_query(**changes))


def _facet_groups(params: SearchParams, facets: dict[str, list]) -> list[dict[str, Any]]:
    groups = []
    labels = {"category": _("分类"), "year": _("出版年"), "publisher": _("出版社")}
    for name, label in labels.items():
        options = []
        for value, count in facets.get(name) or []:
            if name == "year":
                selected = params.year_from == value and params.year_to == value
                url = (
                    params.url(year_from=None, year_to=None)
                    if selected
                    else params.url(year_from=value, year_to=value)
                )
            else:
                selected = getattr(params, name) == str(value)
                url = params.url(**{name: None if selected else value})
            options.append({"value": value, "count": count, "url": url, "selected": selected})
        if options:
            groups.append({"name": name, "label": label, "options": options})
    return groups


def _active_filters(params: SearchParams) -> list[dict[str, str]]:
    chips = []
    if params.category:
        chips.append({"label": params.category, "url": params.url(category=None)})
    if params.publisher:
        chips.append({"label": params.publisher, "url": params.url(publisher=None)})
    if params.year_from or params.year_to:
        if params.year_from == params.year_to:
            label = str(params.year_from)
        else:
            label = f"{params.year_from or ''}–{params.year_to or ''}"
        chips.append({"label": label, "url": params.url(year_from=None, year_to=None)})
    if params.in_stock:
        chips.append({"label": _("仅看有货"), "url": params.url(in_stock=None)})
    return chips


def _pages(params: SearchParams, total: int) -> dict[str, Any]:
    last = min(max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1), MAX_PAGE)
    window = range(max(1, params.page - 2), min(last, params.page + 2) + 1)
    return {
        "current": params.page,
        "last": last,
        "previous": params.url(page=params.page - 1) if params.page > 1 else "",
        "next": params.url(page=params.page + 1) if params.page < last else "",
        "numbers": [{"number": n, "url": params.url(page=n)} for n in window],
        "first_url": params.url(page=1),
        "last_url": params.url(page=last),
    }


# The search page's answer without its result items — the search box, facets, totals, sorts,
# active filters and pager — per process. It follows from the search's parameters, what the
# engine found (its total and facets) and the language alone, so it is the same for every visitor
# and kept by exactly those; the items (their stock read now) and shelf buttons (the visitor's)
# go in where ``_BOOKS`` stands. Rendering it was about half of a cached search page's CPU.
ANSWERS: MicroCache[str] = MicroCache(
    ttl=lambda: settings.XINYUE_SEARCH_CACHE_SECONDS,
    max_entries=5_000,
    max_bytes=lambda: 4 * 1024 * 1024,
    weigh=lambda markup: 100 + 2 * len(markup),
)
# A tag: escaped text (a query, a publisher's name) can never contain it.
_BOOKS = "<xinyue-books>"


def _answer_context(params: SearchParams, result: Any) -> dict[str, Any]:
    return {
        "params": params,
        "result": result,
        "facets": _facet_groups(params, result.facets or {}),
        "filters": _active_filters(params),
        "field_chips": [
            (FIELD_LABELS.get(name, name), value) for name, value in params.fields.items()
        ],
        "sorts": [
            {"key": key, "label": label, "url": params.url(sort=key), "current": key == params.sort}
            for key, label in SORTS.items()
        ],
        "pages": _pages(params, result.total),
    }


def _answer_with_items(params: SearchParams, result: Any, items: list[Any]) -> str:
    """The answer of a search with items on this page, ``_BOOKS`` where the items go (the
    template reads ``items`` only to know there are some)."""
    key = (
        tuple(params.as_query().items()),
        result.total,
        result.total_is_exact,
        result.facets_are_exact,
        tuple((name, tuple(values or ())) for name, values in (result.facets or {}).items()),
        get_language(),
    )
    return ANSWERS.get_or_compute(
        key,
        lambda: get_template("catalog/_search_answer.html").render(
            {**_answer_context(params, result), "items": items, "books": mark_safe(_BOOKS)}
        ),
    )


# Rendered result items (without the shelf button), per process: the key is everything the
# markup shows, so a changed title or stock level is a new key, never a stale entry.
ITEM_HEADS: MicroCache[str] = MicroCache(
    ttl=lambda: settings.XINYUE_SEARCH_CACHE_SECONDS,
    max_entries=20_000,
    max_bytes=lambda: 4 * 1024 * 1024,
    weigh=lambda markup: 100 + 2 * len(markup),
)


@dataclass(frozen=True)
class _Found:
    """What the search page shows that is the same for every visitor (never the shelf)."""

    result: Any
    items: list[Any]


def _search_found(params: SearchParams) -> _Found:
    from xinyue.catalog.selectors.search import search_titles

    result = search_titles(
        query=params.q,
        category=params.category or None,
        publisher=params.publisher or None,
        year_from=params.year_from,
        year_to=params.year_to,
        in_stock=params.in_stock,
        fields=params.fields or None,
        sort=params.sort,
        page=params.page,
        page_size=PAGE_SIZE,
    )
    items = portal.with_stock(list(result.items))
    # Each result's markup except its shelf button (the visitor's own) is the same for every
    # visitor and follows from the title as read now: kept by everything it shows.
    head = get_template("catalog/_title_item_head.html")
    language = get_language()
    for title in items:
        key = (
            title.pk,
            *title.highlights.values(),  # title, subtitle, authors, publisher, subjects, ISBN
            title.year,
            title.list_price_fen,
            title.cover,
            title.in_stock,
            language,
        )
        title.item_head = ITEM_HEADS.get_or_compute(
            key,
            lambda title=title: head.render({"title": title}),
        )
    return _Found(result=result, items=items)


# The shelf button's title field, as ``_shelf_button.html`` writes it: the only part of an item's
# tail that changes from one result to the next (``_give_tails``).
_TITLE_FIELD = '<input type="hidden" name="title_id" value="{}">'
_NO_TITLE = -1  # never a title's id


class _AnyTitle:
    pk = _NO_TITLE


def _give_tails(request: HttpRequest, items: list[Any], context: dict[str, Any]) -> None:
    """Each result's tail (the shelf button, the visitor's own): rendered once per request for
    "on the shelf" and once for "not on it", then given each title's id. Twenty includes of the
    same markup were a third of a cached search page's CPU; the output is byte for byte the
    include's (``test_search_page_tails``)."""
    tail = get_template("catalog/_title_item_tail.html")
    shelf = context["shelf"]
    # Rendered without the request: the button needs its CSRF token, not the header's context
    # processors (the shelf count, the unread messages) run again for it.
    csrf_token = get_token(request)
    rendered: dict[bool, str] = {}
    for title in items:
        on_shelf = title.pk in shelf
        if on_shelf not in rendered:
            rendered[on_shelf] = tail.render(
                {
                    "title": _AnyTitle(),
                    "shelf": {_NO_TITLE} if on_shelf else set(),
                    "next_url": context["next_url"],
                    "csrf_token": csrf_token,
                }
            )
        title.item_tail = mark_safe(  # our own markup; the id is an integer
            rendered[on_shelf].replace(
                _TITLE_FIELD.format(_NO_TITLE), _TITLE_FIELD.format(int(title.pk))
            )
        )


def search(request: HttpRequest) -> HttpResponse:
    params = SearchParams.from_query(request.GET)
    web.record_page_view(request)
    if not params.has_terms:
        if params.category:  # a category alone is browsing, not a search
            return redirect("catalog:category", key=params.category)
        return render(
            request,
            "catalog/search_start.html",
            {"params": params, "popular_terms": popular_search_terms()},
        )
    # What the engine found may come from the search result cache (the same for every
    # visitor); the titles, their stock and the visitor's shelf are read now.
    found = _search_found(params)
    result, items = found.result, found.items
    web.record_search(
        request,
        normalized_query=result.normalized_query,
        result_count=result.total,
        page=params.page,
    )
    context: dict[str, Any] = {
        "params": params,
        "result": result,
        "items": items,
        "shelf": set(web.shelf_ids(request)),
        "next_url": request.get_full_path(),
    }
    if items:
        _give_tails(request, items, context)
        books = "".join(f"{title.item_head}{title.item_tail}" for title in items)
        answer = _answer_with_items(params, result, items).replace(_BOOKS, books, 1)
    else:
        answer_context = {**_answer_context(params, result), "items": []}
        if result.total == 0:  # what to try instead (popular searches, picks) is read now
            answer_context.update(
                popular_terms=popular_search_terms(),
                picks=portal.picked_titles(kind=Pick.Kind.EDITOR, limit=6),
                clear_filters_url=params.url(
                    category=None, publisher=None, year_from=None, year_to=None, in_stock=None
                )
                if params.has_filters
                else "",
            )
        answer = get_template("catalog/_search_answer.html").render(answer_context)
    context["answer"] = mark_safe(answer)  # our templates' output, items included
    return render(request, "catalog/search.html", context)


def advanced_search(request: HttpRequest) -> HttpResponse:
    web.record_page_view(request)
    return render(
        request,
        "catalog/search_advanced.html",
        {
            "params": SearchParams.from_query(request.GET),
            "tree": portal.category_tree(),
            "sorts": SORTS,
        },
    )


# --- title and category pages ---------------------------------------------------------------


def title_detail(request: HttpRequest, title_id: int) -> HttpResponse:
    try:
        title = portal.title_detail(title_id=title_id)
    except TitleNotFound:
        raise Http404(_("找不到该书目")) from None
    web.record_page_view(request)
    web.record_title_view(request, title_id=title.pk)
    offers = list(title.offers.all())
    return render(
        request,
        "catalog/title_detail.html",
        {
            "title": title,
            "offers": offers,
            "total_stock": sum(o.stock for o in offers),
            "shelf": set(web.shelf_ids(request)),
            "next_url": request.get_full_path(),
        },
    )


def category(request: HttpRequest, key: str) -> HttpResponse:
    try:
        category = portal.category_by_key(key)
    except CategoryNotFound:
        raise Http404(_("找不到该分类")) from None
    if key != category.name:
        return redirect("catalog:category", key=category.name, permanent=True)
    web.record_page_view(request)
    page = Paginator(portal.category_titles(category=category), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "catalog/category.html",
        {
            "category": category,
            "children": list(category.children.order_by("position", "id")),
            "siblings": list(category.parent.children.order_by("position", "id"))
            if category.parent_id
            else [],
            "page": page,
            "shelf": set(web.shelf_ids(request)),
            "next_url": request.get_full_path(),
        },
    )


# --- bookshelf ------------------------------------------------------------------------------


def shelf(request: HttpRequest) -> HttpResponse:
    web.record_page_view(request)
    titles = portal.titles_by_ids(web.shelf_ids(request))
    return render(
        request,
        "catalog/shelf.html",
        {
            "titles": titles,
            "is_reader": web.reader_id_of(request) is not None,
            "next_url": reverse("catalog:shelf"),
        },
    )


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    target = request.POST.get("next") or fallback
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = fallback
    return redirect(target)


def _title_id(request: HttpRequest) -> int | None:
    return _int(request.POST.get("title_id"), low=1, high=2**62)


def _shelf_response(
    request: HttpRequest, title_id: int, *, done: str, error: str = ""
) -> HttpResponse:
    """htmx: the new button and the header count; plain form: back where the reader was."""
    if request.htmx:  # type: ignore[attr-defined]
        title = portal.titles_by_ids([title_id])
        if not title:
            return HttpResponse(status=204)
        return render(
            request,
            "catalog/_shelf_button_response.html",
            {
                "title": title[0],
                "shelf": set(web.shelf_ids(request)),
                "big": bool(request.POST.get("big")),
                "next_url": request.POST.get("next") or "",
                "error": error,
            },
        )
    if error:
        messages.error(request, error)
        return _back(request, reverse("catalog:shelf"))
    if done:
        messages.success(request, done)
    return _back(request, reverse("catalog:title", args=[title_id]))


@require_POST
def shelf_add(request: HttpRequest) -> HttpResponse:
    title_id = _title_id(request)
    if title_id is None:
        messages.error(request, _("找不到该书目"))
        return _back(request, reverse("catalog:shelf"))
    try:
        web.add_to_shelf(request, title_id)
    except DomainError as exc:
        return _shelf_response(request, title_id, done="", error=exc.message)
    return _shelf_response(request, title_id, done=_("已加入书架"))


@require_POST
def shelf_remove(request: HttpRequest) -> HttpResponse:
    title_id = _title_id(request)
    if title_id is None:
        return _back(request, reverse("catalog:shelf"))
    try:
        removed = web.remove_from_shelf(request, title_id)
    except DomainError as exc:
        return _shelf_response(request, title_id, done="", error=exc.message)
    return _shelf_response(request, title_id, done=_("已从书架移除") if removed else "")
