"""Reads over the member-library tree."""

from __future__ import annotations

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.libraries.errors import LibraryNotFound
from xinyue.libraries.models import Library, WebhookDelivery, WebhookSubscription

CITY_ORDER = [
    "330100",
    "330200",
    "330300",
    "330400",
    "330500",
    "330600",
    "330700",
    "330800",
    "330900",
    "331000",
    "331100",
]


def library_list(*, active_only: bool = False) -> QuerySet[Library]:
    qs = Library.objects.select_related("parent").order_by("code")
    return qs.filter(is_active=True) if active_only else qs


def library_get(*, code: str) -> Library:
    library = Library.objects.select_related("parent").filter(code=code).first()
    if library is None:
        raise LibraryNotFound(code=code)
    return library


def desk_library(*, actor: Actor, code: str | None) -> Library:
    """The library a desk call acts for (the API's ``library_code``): staff act for their own;
    the operator or a platform key names one. Whether the actor may act there is the caller's
    ``require``."""
    if code:
        library = Library.objects.filter(code=code.strip()).first()
        if library is None:
            raise InvalidInput(fields={"library_code": _("没有这个成员馆")})
        return library
    if actor.library_id is None:
        raise InvalidInput(fields={"library_code": _("请指定成员馆")})
    return Library.objects.get(pk=actor.library_id)


def operator_library() -> Library | None:
    return Library.objects.filter(is_operator=True).first()


def listening_operator_library() -> Library | None:
    """The operator library when it has an active webhook subscription, else None: a service
    that announces a step to it builds the event only when someone will receive it (one
    statement; usually nobody subscribes)."""
    with connection.cursor() as cursor:
        cursor.execute(_LISTENING_OPERATOR_SQL)
        row = cursor.fetchone()
    return None if row is None else Library.objects.get(pk=row[0])


# Raw, and only the id until someone listens: asked at every order step (placing, the credit
# order, shipping …), where compiling the ORM's join cost ten times the statement (~450 µs of
# ~500; now ~30 µs when nobody subscribes).
_LISTENING_OPERATOR_SQL = (
    f"SELECT l.id FROM {Library._meta.db_table} l WHERE l.is_operator AND EXISTS"
    f" (SELECT 1 FROM {WebhookSubscription._meta.db_table} w"
    " WHERE w.library_id = l.id AND w.is_active) ORDER BY l.id LIMIT 1"
)


def cities() -> list[Library]:
    """The city libraries, for the city switcher, in division-code order."""
    return list(Library.objects.filter(level=Library.Level.CITY).order_by("code"))


def libraries_in_city(*, city_code: str, active_only: bool = True) -> QuerySet[Library]:
    """The city library and its districts' libraries."""
    qs = (
        Library.objects.filter(code__startswith=city_code[:4])
        .exclude(level=Library.Level.PROVINCE)
        .order_by("code")
    )
    return qs.filter(is_active=True) if active_only else qs


def library_tree(*, active_only: bool = False) -> list[dict]:
    """Nested ``{library, children}`` dictionaries from the province down."""
    libraries = list(library_list(active_only=active_only))
    nodes = {lib.pk: {"library": lib, "children": []} for lib in libraries}
    roots = []
    for lib in libraries:
        parent = nodes.get(lib.parent_id)
        (parent["children"] if parent else roots).append(nodes[lib.pk])
    return roots


def webhook_subscriptions(*, library: Library) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(library=library).order_by("id")


def recent_webhook_deliveries(*, library: Library, limit: int = 50) -> QuerySet[WebhookDelivery]:
    return (
        WebhookDelivery.objects.filter(subscription__library=library)
        .select_related("subscription")
        .order_by("-created_at")[:limit]
    )


def public_directory() -> list[dict]:
    """Active libraries for the public directory: the province and each city library, each with
    its active district libraries (``{library, children}``), in division-code order."""
    libraries = list(library_list(active_only=True).exclude(level=Library.Level.DISTRICT))
    districts = list(library_list(active_only=True).filter(level=Library.Level.DISTRICT))
    return [
        {
            "library": lib,
            "children": [d for d in districts if d.parent_id == lib.pk],
        }
        for lib in libraries
    ]
