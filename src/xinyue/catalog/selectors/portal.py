"""Reads for the reader portal and the curation console: home page blocks, title detail,
category browsing, the bookshelf. Every list of titles carries ``in_stock`` (some active offer
has stock), computed in the same query."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from django.db.models import (
    Case,
    Exists,
    IntegerField,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from stdnum import isbn as stdnum_isbn

from xinyue.catalog.errors import CategoryNotFound, TitleNotFound
from xinyue.catalog.models import Category, Notice, Offer, Pick, ShelfEntry, Title
from xinyue.core import clock

HOME_LIST_SIZE = 12


def in_stock() -> Exists:
    return Exists(Offer.objects.filter(title=OuterRef("pk"), is_active=True, stock__gt=0))


def titles() -> QuerySet[Title]:
    """Titles readers may see, with ``in_stock`` and their category."""
    return (
        Title.objects.filter(is_active=True)
        .select_related("category", "category__parent")
        .annotate(in_stock=in_stock())
    )


def titles_by_ids(ids: Sequence[int]) -> list[Title]:
    """The visible titles among ``ids``, in that order."""
    by_id = {t.pk: t for t in titles().filter(pk__in=list(ids))}
    return [by_id[i] for i in ids if i in by_id]


# --- home page ------------------------------------------------------------------------------


def active_notices(*, city_code: str | None = None, limit: int | None = None) -> list[Notice]:
    """Notices in force now. With ``city_code``: that city's first, then province-wide ones
    (other cities' notices are left out); without: every notice, province-wide first."""
    now = clock.now()
    qs = Notice.objects.filter(is_active=True, starts_at__lte=now).filter(
        Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )
    if city_code is not None:
        qs = qs.filter(Q(city_code="") | Q(city_code=city_code)).annotate(
            rank=Case(
                When(city_code=city_code, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
    else:
        qs = qs.annotate(
            rank=Case(
                When(city_code="", then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
    qs = qs.order_by("rank", "position", "-starts_at", "id")
    return list(qs[:limit] if limit else qs)


def picked_titles(*, kind: str, limit: int = HOME_LIST_SIZE) -> list[Title]:
    """The active picks of one kind, in the operator's order."""
    ids = list(
        Pick.objects.filter(kind=kind, is_active=True, title__is_active=True)
        .order_by("position", "id")
        .values_list("title_id", flat=True)[:limit]
    )
    return titles_by_ids(ids)


def new_books(*, limit: int = HOME_LIST_SIZE) -> list[Title]:
    """The operator's new books (新书推荐); until there are some, the newest titles in stock."""
    picked = picked_titles(kind=Pick.Kind.NEW, limit=limit)
    if picked:
        return picked
    return list(titles().filter(in_stock=True).order_by("-year", "-id")[:limit])


def home_categories() -> list[Category]:
    return list(Category.objects.filter(parent=None, show_on_home=True).order_by("position", "id"))


def category_tree() -> list[Category]:
    """Top categories, each with ``children`` prefetched in order."""
    return list(
        Category.objects.filter(parent=None)
        .order_by("position", "id")
        .prefetch_related(
            Prefetch("children", queryset=Category.objects.order_by("position", "id"))
        )
    )


# --- browsing and detail --------------------------------------------------------------------


def category_by_key(key: str) -> Category:
    """A category by its name (as in links: ``/categories/文学/``) or its id."""
    key = (key or "").strip().strip("/")
    category = None
    if key.isdigit():
        category = Category.objects.select_related("parent").filter(pk=int(key)).first()
    if category is None and key:
        category = Category.objects.select_related("parent").filter(name=key).first()
    if category is None:
        raise CategoryNotFound(key=key[:40])
    return category


def category_titles(*, category: Category) -> QuerySet[Title]:
    """Titles of a category and of its sub-categories, newest first."""
    ids = [category.pk, *category.children.values_list("pk", flat=True)]
    return titles().filter(category_id__in=ids).order_by("-year", "-id")


def title_detail(*, title_id: int) -> Title:
    """A visible title with ``offers`` (active ones, most stock first, with their supplier)."""
    title = (
        titles()
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=Offer.objects.filter(is_active=True, supplier__is_active=True)
                .select_related("supplier")
                .order_by("-stock", "id"),
            )
        )
        .filter(pk=title_id)
        .first()
    )
    if title is None:
        raise TitleNotFound(title_id=title_id)
    return title


def title_by_isbn_or_id(text: str) -> Title | None:
    """For the console: find a title by ISBN (10 or 13, any hyphens) or by its id."""
    text = (text or "").strip()
    if not text:
        return None
    compact = stdnum_isbn.compact(text) if len(text) <= 20 else ""
    if compact and stdnum_isbn.is_valid(compact):
        return Title.objects.filter(isbn13=stdnum_isbn.to_isbn13(compact)).first()
    if text.isdigit() and len(text) < 13:
        return Title.objects.filter(pk=int(text)).first()
    return None


# --- bookshelf ------------------------------------------------------------------------------


def shelf_titles(*, reader_id: int) -> list[Title]:
    """The reader's shelf, last added first; each title carries ``added_at``."""
    entries = list(
        ShelfEntry.objects.filter(reader_id=reader_id, title__is_active=True)
        .order_by("-added_at", "-id")
        .values_list("title_id", "added_at")
    )
    found = titles_by_ids([title_id for title_id, _ in entries])
    added = dict(entries)
    for title in found:
        title.added_at = added[title.pk]
    return found


def shelf_title_ids(*, reader_id: int) -> list[int]:
    return list(
        ShelfEntry.objects.filter(reader_id=reader_id)
        .order_by("-added_at", "-id")
        .values_list("title_id", flat=True)
    )


def shelf_count(*, reader_id: int) -> int:
    return ShelfEntry.objects.filter(reader_id=reader_id, title__is_active=True).count()


def visible_title_ids(ids: Iterable[int]) -> list[int]:
    """Of ``ids``, those still shown to readers, in the given order (anonymous shelves)."""
    ids = list(ids)
    if not ids:
        return []  # an empty shelf (most visitors): no query to build
    active = set(Title.objects.filter(pk__in=ids, is_active=True).values_list("pk", flat=True))
    return [i for i in ids if i in active]


def with_stock(items: list[Title]) -> list[Title]:
    """Give titles that came without it (e.g. from the search engine) ``in_stock``."""
    missing = [t.pk for t in items if not hasattr(t, "in_stock")]
    if missing:
        stocked = set(
            Offer.objects.filter(title_id__in=missing, is_active=True, stock__gt=0).values_list(
                "title_id", flat=True
            )
        )
        for title in items:
            if not hasattr(title, "in_stock"):
                title.in_stock = title.pk in stocked
    return items


def category_names(ids: Iterable[int]) -> dict[int, str]:
    return dict(Category.objects.filter(pk__in=list(ids)).values_list("pk", "name"))
