"""Who may do what. Every service calls one of these before it changes or reveals anything.

Rules: the operator may do everything; a library's staff act only on their own library (an admin
may do what desk staff may, plus manage the library's staff); supplier staff act only on their
supplier; readers only on themselves (checked in ``xinyue.readers``).
"""

from __future__ import annotations

from django.db.models import Q
from django.utils.translation import gettext as _

from xinyue.core.actors import Actor, ActorKind, Role
from xinyue.core.errors import PermissionDenied


def require_operator(actor: Actor) -> None:
    if not actor.is_operator and actor.kind is not ActorKind.SYSTEM:
        raise PermissionDenied(_("只有平台运营方可以执行此操作"), required="operator")


def can_act_for_library(actor: Actor, library_id: int, *, role: Role = Role.DESK) -> bool:
    if actor.is_operator or actor.kind is ActorKind.SYSTEM:
        return True
    return actor.kind is ActorKind.STAFF and actor.library_id == library_id and role in actor.roles


def require_library(actor: Actor, library_id: int, *, role: Role = Role.DESK) -> None:
    """Refuse unless ``actor`` may act for library ``library_id`` with at least ``role``."""
    if not can_act_for_library(actor, library_id, role=role):
        raise PermissionDenied(
            _("不能操作其他成员馆的数据") if actor.library_id != library_id else None
        )


def require_supplier(actor: Actor, supplier_id: int) -> None:
    if actor.is_operator or actor.kind is ActorKind.SYSTEM:
        return
    if actor.kind is not ActorKind.SUPPLIER or actor.supplier_id != supplier_id:
        raise PermissionDenied(_("不能操作其他书商的数据"))


def require_staff(actor: Actor) -> None:
    """Any platform worker: operator or staff of some library."""
    if not (actor.is_operator or actor.kind in {ActorKind.STAFF, ActorKind.SYSTEM}):
        raise PermissionDenied()


def library_scope(actor: Actor, field: str = "library_id") -> Q:
    """A filter limiting a queryset to what ``actor`` may see: all for the operator, one library for staff."""
    if actor.is_operator or actor.kind is ActorKind.SYSTEM:
        return Q()
    if actor.kind is ActorKind.STAFF and actor.library_id is not None:
        return Q(**{field: actor.library_id})
    return Q(pk__in=[])


def roles_for(role: str) -> frozenset[Role]:
    """An admin may do everything desk staff may."""
    if role == Role.ADMIN:
        return frozenset({Role.ADMIN, Role.DESK})
    if role == Role.DESK:
        return frozenset({Role.DESK})
    return frozenset()
