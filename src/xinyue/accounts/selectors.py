"""Reads about platform users and API keys, always scoped to what the actor may see."""

from __future__ import annotations

from django.db.models import QuerySet

from xinyue.accounts.models import ApiKey, User
from xinyue.core import permissions
from xinyue.core.actors import Actor, ActorKind, Channel
from xinyue.core.permissions import library_scope, require_operator, require_staff, roles_for


def actor_for_user(user: User, *, channel: Channel = Channel.PC) -> Actor:
    """The ``Actor`` a logged-in page user acts as."""
    kind = {
        User.Kind.OPERATOR: ActorKind.OPERATOR,
        User.Kind.STAFF: ActorKind.STAFF,
        User.Kind.SUPPLIER: ActorKind.SUPPLIER,
        User.Kind.READER: ActorKind.READER,
    }[User.Kind(user.kind)]
    # A reader's page session acts as the reader (``xinyue.readers``: a 1:1 User of kind reader).
    reader = getattr(user, "reader", None) if kind is ActorKind.READER else None
    return Actor(
        kind=kind,
        label=f"reader:{reader.pk}" if reader is not None else str(user),
        user_id=user.pk,
        reader_id=reader.pk if reader is not None else None,
        library_id=user.library_id,
        supplier_id=user.supplier_id,
        roles=roles_for(user.role),
        channel=channel,
    )


def staff_users(*, actor: Actor) -> QuerySet[User]:
    """Staff the actor may see: all for the operator, their own library's for staff."""
    require_staff(actor)
    return (
        User.objects.filter(kind=User.Kind.STAFF)
        .filter(library_scope(actor))
        .select_related("library")
        .order_by("library__code", "username")
    )


def platform_users(*, actor: Actor) -> QuerySet[User]:
    require_operator(actor)
    return (
        User.objects.exclude(kind=User.Kind.READER)
        .select_related("library", "supplier")
        .order_by("kind", "username")
    )


def api_keys(*, actor: Actor) -> QuerySet[ApiKey]:
    require_operator(actor)
    return ApiKey.objects.select_related("library", "supplier")


def can_manage_staff(actor: Actor) -> bool:
    return permissions.can_manage_staff(actor)
