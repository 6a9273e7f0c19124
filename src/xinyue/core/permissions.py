"""Who may do what: one table (role × action × scope), checked by every service.

Each service names the action it performs and the thing it acts on (a reader, a library, a
supplier); ``require`` looks the caller's role up in ``TABLE`` and refuses unless the thing is in
the scope the table gives that role. ``docs/architecture.md`` shows the table; a test keeps the
two equal (``markdown_table``), and ``accounts/tests/test_permissions_table.py`` walks it against
every API operation and console page.

Scopes:

* ``own reader`` — the reader themself;
* ``own library`` — the actor's library, or a reader who holds a card there;
* ``own supplier`` — the actor's supplier;
* ``everything``.

The short names below (``require_operator``, ``require_library``, …) are the table's most used
rows under the names services already call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from django.db.models import Q
from django.utils.translation import gettext as _

from xinyue.core.actors import Actor, ActorKind, Role
from xinyue.core.errors import PermissionDenied
from xinyue.core.hooks import Hook


class Who(StrEnum):
    OPERATOR = "operator"
    LIBRARY_ADMIN = "library admin"
    LIBRARY_DESK = "library desk"
    SUPPLIER_STAFF = "supplier staff"
    READER = "reader"
    SYSTEM = "system"


class Scope(StrEnum):
    OWN_READER = "own reader"
    OWN_LIBRARY = "own library"
    OWN_SUPPLIER = "own supplier"
    EVERYTHING = "everything"


class Action(StrEnum):
    USE_CONSOLE = "use the console"  # the staff pages at all; each page checks its own action
    RUN_PLATFORM = "run the platform"  # libraries, catalog curation, credit settings, keys, users
    MANAGE_LIBRARY = "manage a library"  # settings, staff, webhooks
    MANAGE_KIOSKS = "manage self-service kiosks"  # SIP2 kiosk accounts
    WORK_AT_LIBRARY = "work at a library's desk"  # look readers up, cards, reviews, statistics
    WORK_FOR_SUPPLIER = "work for a supplier"  # stock, orders to fill
    OWN_ACCOUNT = "keep one's reader account"  # profile, consents, phone, export, deletion
    REQUEST_CARD = "ask for a card"  # credit card, linking, manual review
    USE_BOOKSHELF = "fill a bookshelf"
    AUTHORIZE_CREDIT = "authorize a credit check"
    SEE_CREDIT = "see credit decisions"
    RUN_CREDIT_ORDER = "open, extend, close or cancel a credit order"
    CHARGE_CREDIT_ORDER = "charge a credit order"
    ORDER_BOOKS = "order books, follow orders and loans"  # platform orders (信阅借书)
    REPORT_USAGE = "report usage events"  # page views, searches, clicks
    CIRCULATE = "lend and take back books at a desk"  # check-in, check-out (desk, kiosk)
    RENEW_LOAN = "renew a loan"
    DISPUTE_CREDIT_RECORD = "see and dispute one's credit record"
    ANSWER_CREDIT_DISPUTE = "answer a credit record dispute"


EVERYTHING, OWN_READER, OWN_LIBRARY, OWN_SUPPLIER = (
    Scope.EVERYTHING,
    Scope.OWN_READER,
    Scope.OWN_LIBRARY,
    Scope.OWN_SUPPLIER,
)
OPERATOR, ADMIN, DESK, SUPPLIER, READER, SYSTEM = Who

TABLE: dict[Action, dict[Who, Scope]] = {
    Action.USE_CONSOLE: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        SUPPLIER: OWN_SUPPLIER,
        SYSTEM: EVERYTHING,
    },
    Action.RUN_PLATFORM: {OPERATOR: EVERYTHING, SYSTEM: EVERYTHING},
    Action.MANAGE_LIBRARY: {OPERATOR: EVERYTHING, ADMIN: OWN_LIBRARY, SYSTEM: EVERYTHING},
    Action.MANAGE_KIOSKS: {OPERATOR: EVERYTHING, ADMIN: OWN_LIBRARY, SYSTEM: EVERYTHING},
    Action.WORK_AT_LIBRARY: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        SYSTEM: EVERYTHING,
    },
    Action.WORK_FOR_SUPPLIER: {OPERATOR: EVERYTHING, SUPPLIER: OWN_SUPPLIER, SYSTEM: EVERYTHING},
    Action.OWN_ACCOUNT: {READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.REQUEST_CARD: {READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.USE_BOOKSHELF: {READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.AUTHORIZE_CREDIT: {READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.SEE_CREDIT: {OPERATOR: EVERYTHING, READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.RUN_CREDIT_ORDER: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        READER: OWN_READER,
        SYSTEM: EVERYTHING,
    },
    Action.CHARGE_CREDIT_ORDER: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        SYSTEM: EVERYTHING,
    },
    Action.ORDER_BOOKS: {OPERATOR: EVERYTHING, READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.REPORT_USAGE: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        READER: OWN_READER,
        SYSTEM: EVERYTHING,
    },
    Action.CIRCULATE: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        SYSTEM: EVERYTHING,
    },
    Action.RENEW_LOAN: {
        OPERATOR: EVERYTHING,
        ADMIN: OWN_LIBRARY,
        DESK: OWN_LIBRARY,
        READER: OWN_READER,
        SYSTEM: EVERYTHING,
    },
    Action.DISPUTE_CREDIT_RECORD: {READER: OWN_READER, SYSTEM: EVERYTHING},
    Action.ANSWER_CREDIT_DISPUTE: {OPERATOR: EVERYTHING, ADMIN: OWN_LIBRARY, SYSTEM: EVERYTHING},
}


def who(actor: Actor) -> Who:
    """The table's row for ``actor``."""
    if actor.kind is ActorKind.STAFF:
        return Who.LIBRARY_ADMIN if Role.ADMIN in actor.roles else Who.LIBRARY_DESK
    return {
        ActorKind.OPERATOR: Who.OPERATOR,
        ActorKind.SUPPLIER: Who.SUPPLIER_STAFF,
        ActorKind.READER: Who.READER,
        ActorKind.SYSTEM: Who.SYSTEM,
    }[actor.kind]


# --- which libraries a reader belongs to (the readers app registers the answer) -----------------

# The app that keeps cards says which libraries a reader holds a card at (its ``ready()``).
reader_library_resolvers: Hook[Callable[[int], Iterable[int]]] = Hook("core.reader_libraries")


def reader_libraries(reader_id: int) -> set[int]:
    return {ids for found in reader_library_resolvers.each(reader_id) for ids in found}


# --- the check --------------------------------------------------------------------------------


def allowed(
    actor: Actor,
    action: Action,
    *,
    reader_id: int | None = None,
    library_id: int | None = None,
    supplier_id: int | None = None,
) -> bool:
    """May ``actor`` do ``action`` to the thing named (a reader, a library or a supplier)?

    With no thing named, the question is whether ``actor`` may do ``action`` at all (to
    something in its scope): a list is then narrowed by ``library_scope``."""
    scope = TABLE[action].get(who(actor))
    if scope is None:
        return False
    if scope is EVERYTHING:
        return True
    if reader_id is None and library_id is None and supplier_id is None:
        return True
    if scope is OWN_READER:
        return reader_id is not None and actor.reader_id == reader_id
    if scope is OWN_SUPPLIER:
        return supplier_id is not None and actor.supplier_id == supplier_id
    if actor.library_id is None:
        return False
    if library_id is not None:
        return actor.library_id == library_id
    return reader_id is not None and actor.library_id in reader_libraries(reader_id)


def require(
    actor: Actor,
    action: Action,
    *,
    reader_id: int | None = None,
    library_id: int | None = None,
    supplier_id: int | None = None,
    message: str | None = None,
) -> None:
    """Refuse (``PermissionDenied``, code ``forbidden``) unless ``allowed``; ``message`` says
    what was refused in the caller's words (default: by the kind of thing named)."""
    if allowed(actor, action, reader_id=reader_id, library_id=library_id, supplier_id=supplier_id):
        return
    if action is Action.RUN_PLATFORM:
        raise PermissionDenied(_("只有平台运营方可以执行此操作"), required="operator")
    if message is None:
        if library_id is not None:
            # Their own library with too low a role needs no explanation beyond "forbidden".
            message = _("不能操作其他成员馆的数据") if actor.library_id != library_id else None
        elif supplier_id is not None:
            message = _("不能操作其他书商的数据")
        elif reader_id is not None:
            message = _("只能操作本人的账户")
    raise PermissionDenied(message)


def library_scope(actor: Actor, field: str = "library_id") -> Q:
    """A filter limiting a queryset to what ``actor`` may see: all for the operator, one library for staff."""
    scope = TABLE[Action.WORK_AT_LIBRARY].get(who(actor))
    if scope is EVERYTHING:
        return Q()
    if scope is OWN_LIBRARY and actor.library_id is not None:
        return Q(**{field: actor.library_id})
    return Q(pk__in=[])


# --- the rows services call most, under their usual names -------------------------------------


def require_operator(actor: Actor) -> None:
    require(actor, Action.RUN_PLATFORM)


def can_act_for_library(actor: Actor, library_id: int, *, role: Role = Role.DESK) -> bool:
    action = Action.MANAGE_LIBRARY if role is Role.ADMIN else Action.WORK_AT_LIBRARY
    return allowed(actor, action, library_id=library_id)


def require_library(actor: Actor, library_id: int, *, role: Role = Role.DESK) -> None:
    """Refuse unless ``actor`` may act for library ``library_id`` with at least ``role``."""
    action = Action.MANAGE_LIBRARY if role is Role.ADMIN else Action.WORK_AT_LIBRARY
    require(actor, action, library_id=library_id)


def require_supplier(actor: Actor, supplier_id: int) -> None:
    require(actor, Action.WORK_FOR_SUPPLIER, supplier_id=supplier_id)


def require_staff(actor: Actor) -> None:
    """Any platform worker: operator or staff of some library."""
    require(actor, Action.WORK_AT_LIBRARY)


def require_reader(
    actor: Actor, reader_id: int, action: Action = Action.OWN_ACCOUNT, *, message: str | None = None
) -> None:
    """ "A reader acts only on their own things": the one check; the action says who else may."""
    require(actor, action, reader_id=reader_id, message=message)


def can_manage_staff(actor: Actor) -> bool:
    return allowed(actor, Action.MANAGE_LIBRARY) and who(actor) is not Who.SYSTEM


def roles_for(role: str) -> frozenset[Role]:
    """An admin may do everything desk staff may."""
    if role == Role.ADMIN:
        return frozenset({Role.ADMIN, Role.DESK})
    if role == Role.DESK:
        return frozenset({Role.DESK})
    return frozenset()


# --- the table as documentation ---------------------------------------------------------------


def markdown_table() -> str:
    """The table as it appears in ``docs/architecture.md`` (a test keeps them equal)."""
    header = "| action | " + " | ".join(w.value for w in Who) + " |"
    rule = "|---" * (len(Who) + 1) + "|"
    rows = [
        f"| {action.value} | "
        + " | ".join(TABLE[action].get(w, "—") for w in Who)  # type: ignore[misc]
        + " |"
        for action in Action
    ]
    return "\n".join([header, rule, *rows])
