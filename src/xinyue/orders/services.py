"""Platform orders (信阅借书): placing, the credit order, cancelling, shipping, rejecting,
delivering, confirming receipt; the operator's rules and budget.

Placing is one short transaction that can never oversell: every limit is a conditional
``UPDATE`` on a counter that refuses to go below zero (stock per offer, the reader's open platform
volumes, a budget slot), so two concurrent orders cannot both take the last copy, the last unit
of quota or the last fen. Any refusal raises a ``DomainError`` inside the transaction, which
rolls back whatever had already been taken: a refusal changes nothing.

The credit order at the provider is opened by a task enqueued when the order commits (never in the
ordering transaction, nor in the request), once per order (reference ``order:<number>``): the
provider admitting it confirms the order; refusing it cancels the order and releases what it
held; a provider that is down is tried again (``core.retries``); a reader who must confirm on the
provider's page has ``confirm_minutes`` to do it before the order expires the same way.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import threading
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from xinyue.cards.models import Card
from xinyue.catalog.models import Offer, Title
from xinyue.catalog.selectors.titles import orderable_copies
from xinyue.catalog.services.bookshelf import put_back_on_shelf, take_ordered_off_shelves
from xinyue.catalog.services.offers import return_stock, take_stock
from xinyue.core import audit, clock
from xinyue.core.actors import SYSTEM, Actor, ActorKind, Channel
from xinyue.core.errors import DomainError, InvalidInput, PermissionDenied
from xinyue.core.history import record_transitions
from xinyue.core.idempotency import Claim, record_answers
from xinyue.core.permissions import Action, require_operator, require_reader, require_supplier
from xinyue.core.retries import Backoff
from xinyue.core.rows import insert_rows, one_row
from xinyue.credit.errors import ProviderFailed
from xinyue.credit.models import CreditOrder
from xinyue.credit.selectors import Admittance, credit_order_by_reference, current_admittances
from xinyue.libraries.divisions import full_name
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import listening_operator_library
from xinyue.libraries.services import publish_library_event
from xinyue.orders import hooks
from xinyue.orders.errors import (
    BudgetExhausted,
    DuplicateTitle,
    IdempotencyMismatch,
    NoActiveService,
    NotAdmitted,
    OrderState,
    PickupDisabled,
    QuotaExceeded,
    TitleInStock,
    TitleUnavailable,
    TooManyVolumes,
)
from xinyue.orders.models import (
    BudgetPeriod,
    BudgetSlot,
    DeliveryKind,
    LedgerEntry,
    Order,
    OrderEvent,
    OrderLine,
    PlatformRules,
    ReaderQuota,
    Shipment,
    WaitListEntry,
)
from xinyue.orders.selectors import (
    forget_platform_rules,
    may_reveal_address,
    platform_rules,
    postage_for,
)
from xinyue.readers import vault
from xinyue.readers.models import Address, Reader
from xinyue.readers.selectors.identity import reader_standing
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.messages import Notice, notify_reader, notify_readers
from xinyue.readers.validation import (
    clean_address_detail,
    clean_district_code,
    clean_name,
    clean_phone,
)
from xinyue.suppliers.selectors import listening_suppliers
from xinyue.suppliers.services import publish_supplier_event

log = logging.getLogger("xinyue.orders")

PROVINCE_PREFIX = "33"  # Zhejiang (GB/T 2260)
DELIVERY_ALLOWANCE_DAYS = 15  # the credit order covers delivery time on top of the loan days
BARCODE_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
TRACKING_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")
Status = Order.Status
LineStatus = OrderLine.Status


# --- small helpers ----------------------------------------------------------------------------


def _event(
    order: Order,
    actor: Actor,
    from_state: str,
    to_state: str,
    note: str = "",
    *,
    step: str = "",
    **data: Any,
) -> None:
    """The one place an order step is recorded, inside the step's transaction: the event row,
    the webhooks (the operator library's subscribers and the order's suppliers'), and the
    reader's message. ``step`` names it (default ``order.<to_state>``); ``data`` goes into the
    webhook and the message."""
    step = step or f"order.{to_state}"
    OrderEvent.record(order=order, actor=actor, from_state=from_state, to_state=to_state, note=note)
    _announce(order, step, **data)


def _announce(order: Order, step: str, **data: Any) -> None:
    """What follows an order step's event row (written by ``_event``; the placing batch has its
    own, ``_announce_placed``): the webhooks and the reader's message."""
    _publish(order, step, **data)
    _notify(order, step, **data)


def _publish(order: Order, event_type: str, **data: Any) -> None:
    """Tell the operator library's systems and the order's suppliers' (signed webhooks after
    the commit; no personal data: the number, the state, what changed)."""
    payload = {
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "list_price_total_fen": order.list_price_total_fen,
        **data,
    }
    library = listening_operator_library()
    if library is not None:
        publish_library_event(library=library, event_type=event_type, data=payload)
    suppliers = listening_suppliers(
        OrderLine.objects.filter(order_id=order.pk).values("supplier_id")
    )
    if suppliers:
        publish_supplier_event(supplier_ids=suppliers, event_type=event_type, data=payload)


def _reason_words(reason: str) -> str:
    if reason == "reader":
        return _("您取消了订单")
    if reason == "credit:unavailable":
        return _("信用服务机构长时间无法受理")
    if reason.startswith("credit:"):
        return _("信用服务机构未通过本次借阅")
    if reason == "confirm_expired":
        return _("未在时限内完成信用确认")
    return reason


def _notify(order: Order, step: str, **data: Any) -> None:
    """The reader's message for an order step (in Chinese, whatever the request's language)."""
    notify_readers(notices=[_notice(order, step, **data)])


# The reader's messages per order step, translated when one is sent (only the step's two).
_NOTICE_TEXTS: dict[str, tuple[str, str]] = {
    "order.placed": (
        gettext_noop("订单 %(number)s 已提交"),
        gettext_noop("我们正在为您开通信用借阅，确认后书商即开始备货。"),
    ),
    "order.awaiting_confirmation": (
        gettext_noop("请确认订单 %(number)s 的信用借阅"),
        gettext_noop("请在 %(expires)s 前到信用服务页面完成确认，逾时订单将自动取消。"),
    ),
    "order.confirmed": (
        gettext_noop("订单 %(number)s 已确认"),
        gettext_noop("书商正在备货，发货后会通知您。"),
    ),
    "order.shipped": (
        gettext_noop("订单 %(number)s 已发货"),
        gettext_noop("%(carrier)s 运单号 %(tracking_number)s。"),
    ),
    "order.partially_shipped": (
        gettext_noop("订单 %(number)s 部分发货"),
        gettext_noop("%(carrier)s 运单号 %(tracking_number)s；其余图书将另行发出。"),
    ),
    "order.line_rejected": (
        gettext_noop("订单 %(number)s 中《%(title)s》无法供货"),
        gettext_noop("原因：%(reason)s。该书占用的额度已退回。"),
    ),
    "order.delivered": (
        gettext_noop("订单 %(number)s 已送达"),
        gettext_noop("借阅已开始，请留意到期日。"),
    ),
    "order.received": (gettext_noop("订单 %(number)s 已确认收货"), gettext_noop("祝您阅读愉快。")),
    "order.cancelled": (gettext_noop("订单 %(number)s 已取消"), gettext_noop("原因：%(reason)s。")),
    "order.expired": (
        gettext_noop("订单 %(number)s 已过期取消"),
        gettext_noop("原因：%(reason)s。"),
    ),
    "order.rejected": (
        gettext_noop("订单 %(number)s 无法供货，已关闭"),
        gettext_noop("原因：%(reason)s。"),
    ),
}


def _notice(order: Order, step: str, **data: Any) -> Notice:
    """What ``_notify`` tells the reader."""
    return _notices([order], step, **data)[0]


def _notices(orders: Sequence[Order], step: str, **data: Any) -> list[Notice]:
    """The same step's message for each of ``orders`` (placing's batch tells many readers at
    once): the step's texts translated once, then filled in per order."""
    with translation.override("zh-hans"):
        subject, body = (_(text) for text in _NOTICE_TEXTS[step])
        shared = {k: v for k, v in data.items() if k != "lines"}
        if "reason" in data:
            shared["reason"] = _reason_words(str(data["reason"]))
        notices = []
        for order in orders:
            words = {"number": order.number, **shared}
            if "expires" not in words and order.confirm_expires_at is not None:
                words["expires"] = f"{clock.local(order.confirm_expires_at):%Y-%m-%d %H:%M}"
            link = reverse("orders:detail", args=[order.number])  # the message opens the order
            notices.append(Notice(order.reader, step, subject % words, body % words, link))
        return notices


def _require_reader_or_operator(actor: Actor, order: Order) -> None:
    require_reader(actor, order.reader_id, Action.ORDER_BOOKS, message=_("只能操作本人的订单"))


def _credit_actor(actor: Actor) -> Actor:
    """Credit services act for readers, staff, the operator or the system, never a supplier."""
    return SYSTEM if actor.kind is ActorKind.SUPPLIER else actor


def _lock(order: Order) -> Order:
    return Order.objects.select_for_update().get(pk=order.pk)


# --- the budget: slots + ledger -----------------------------------------------------------------


def _ledger(
    *,
    period_id: int,
    slot: int,
    kind: str,
    amount: int,
    actor: Actor,
    order: Order | None = None,
    line: OrderLine | None = None,
    note: str = "",
) -> None:
    LedgerEntry.objects.create(
        period_id=period_id,
        slot=slot,
        kind=kind,
        amount_fen=amount,
        order=order,
        line=line,
        actor_ref=actor.ref,
        note=note[:200],
    )


_COMMIT_SLOT = """
    UPDATE orders_budgetslot SET available_fen = available_fen - %s, committed_fen = committed_fen + %s
    WHERE period_id = %s AND slot = %s AND available_fen >= %s"""


def _commit_budget(
    *, period_id: int, slots: Sequence[int], amount: int, hint: int
) -> list[tuple[int, int]] | None:
    """Take ``amount`` fen from the period's ``slots``: first from one slot picked by ``hint`` (so
    concurrent orders spread over the slots; one conditional UPDATE), else piecewise from every
    slot in slot order (one lock order: no deadlock). Returns the (slot, fen) pieces, or None
    when the money is not there (the caller's transaction then rolls the pieces back)."""
    if not slots:
        return None
    first = slots[hint % len(slots)]
    with connection.cursor() as cursor:
        cursor.execute(_COMMIT_SLOT, [amount, amount, period_id, first, amount])
        if cursor.rowcount:
            return [(first, amount)]
        pieces: list[tuple[int, int]] = []
        remaining = amount
        cursor.execute(
            "SELECT slot, available_fen FROM orders_budgetslot WHERE period_id = %s"
            " AND available_fen > 0 ORDER BY slot",
            [period_id],
        )
        for slot, available in cursor.fetchall():
            take = min(available, remaining)
            cursor.execute(_COMMIT_SLOT, [take, take, period_id, slot, take])
            if cursor.rowcount:
                pieces.append((slot, take))
                remaining -= take
                if not remaining:
                    return pieces
    return None


def _order_commitments(order: Order) -> dict[int, int]:
    """Money the order still holds per slot: commitments − releases − spends."""
    held: dict[int, int] = {}
    sign = {"commitment": 1, "release": -1, "spend": -1}
    rows = LedgerEntry.objects.filter(order=order).values("slot", "kind")
    for row in rows.annotate(total=Sum("amount_fen")):
        held[row["slot"]] = held.get(row["slot"], 0) + sign.get(row["kind"], 0) * row["total"]
    return {slot: fen for slot, fen in sorted(held.items()) if fen > 0}


def _settle_budget(
    *, order: Order, amount: int, kind: str, actor: Actor, line: OrderLine | None
) -> None:
    """Release (back to available) or spend (to spent) ``amount`` of what ``order`` holds."""
    remaining = amount
    for slot, held in _order_commitments(order).items():
        take = min(held, remaining)
        if kind == LedgerEntry.Kind.RELEASE:
            change = {"available_fen": F("available_fen") + take}
        else:
            change = {"spent_fen": F("spent_fen") + take}
        BudgetSlot.objects.filter(period_id=order.budget_period_id, slot=slot).update(
            committed_fen=F("committed_fen") - take, **change
        )
        _ledger(
            period_id=order.budget_period_id,
            slot=slot,
            kind=kind,
            amount=take,
            actor=actor,
            order=order,
            line=line,
        )
        remaining -= take
        if not remaining:
            return
    raise RuntimeError(f"order {order.number} holds less budget than {amount} fen")


# --- quota -------------------------------------------------------------------------------------


_TAKE_QUOTA = """
    UPDATE orders_readerquota SET open_volumes = open_volumes + %s
    WHERE reader_id = %s AND open_volumes <= %s"""
_HELD_QUOTA = "SELECT open_volumes FROM orders_readerquota WHERE reader_id = %s"


def _take_quota(*, reader: Reader, volumes: int, quota: int) -> None:
    """One conditional UPDATE on the reader's counter row (created on the first order). On
    PostgreSQL its row lock also queues the same reader's concurrent orders until commit."""
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_QUOTA, [volumes, reader.pk, quota - volumes])
        if cursor.rowcount:
            return
        # Refused, or the reader's first order: one read tells which (and what the reader holds).
        cursor.execute(_HELD_QUOTA, [reader.pk])
        row = cursor.fetchone()
        if row is None:
            ReaderQuota.objects.bulk_create([ReaderQuota(reader=reader)], ignore_conflicts=True)
            cursor.execute(_TAKE_QUOTA, [volumes, reader.pk, quota - volumes])
            if cursor.rowcount:
                return
            cursor.execute(_HELD_QUOTA, [reader.pk])
            row = cursor.fetchone()
    raise _quota_exceeded(quota=quota, held=row[0])


def _quota_exceeded(*, quota: int, held: int) -> QuotaExceeded:
    remaining = max(0, quota - held)
    return QuotaExceeded(
        _("信阅借书最多同时在借 %(quota)s 册，您还可以再借 %(remaining)s 册")
        % {"quota": quota, "remaining": remaining},
        quota=quota,
        open_volumes=held,
        remaining=remaining,
    )


def release_platform_volumes(*, reader_id: int, volumes: int) -> None:
    """Give back quota (a cancelled/rejected line, or a returned platform loan — circulation
    calls this from its return service), in the caller's transaction."""
    ReaderQuota.objects.filter(reader_id=reader_id, open_volumes__gte=volumes).update(
        open_volumes=F("open_volumes") - volumes
    )


# --- input ---------------------------------------------------------------------------------------


def _clean_title_ids(title_ids: Sequence[Any], rules: PlatformRules) -> list[int]:
    try:
        ids = [int(t) for t in title_ids]
    except (TypeError, ValueError):
        raise InvalidInput(fields={"title_ids": _("书目编号应为整数")}) from None
    if not ids:
        raise InvalidInput(fields={"title_ids": _("请至少选择一本书")})
    if len(set(ids)) != len(ids):
        raise InvalidInput(fields={"title_ids": _("同一本书每单只能借一册")})
    if len(ids) > rules.max_volumes_per_order:
        raise TooManyVolumes(
            _("每单最多 %(max)s 册") % {"max": rules.max_volumes_per_order},
            max_volumes=rules.max_volumes_per_order,
        )
    return sorted(ids)


def _clean_address(reader: Reader, address: dict[str, Any] | None, address_uid: str | None):
    """(district_code, detail, recipient, phone) from the address book or a new address."""
    if address_uid:
        try:
            uid = uuid.UUID(str(address_uid))
        except ValueError:
            raise InvalidInput(fields={"address_uid": _("找不到该地址")}) from None
        row = Address.objects.filter(reader=reader, uid=uid).first()
        if row is None:
            raise InvalidInput(fields={"address_uid": _("找不到该地址")})
        values = {
            "district_code": row.district_code,
            "detail": vault.unseal(row, "detail_ct"),
            "recipient": vault.unseal(row, "recipient_ct"),
            "phone": vault.unseal(row, "phone_ct"),
        }
        prefix = "address_uid"
    elif address:
        values = {
            k: str(address.get(k) or "") for k in ("district_code", "detail", "recipient", "phone")
        }
        prefix = "address."
    else:
        raise InvalidInput(fields={"address": _("请选择收货地址")})
    errors: dict[str, str] = {}
    cleaned: dict[str, str] = {}

    def field(name: str) -> str:
        return prefix if prefix == "address_uid" else prefix + name

    # The address book's own rules (readers.validation): inside Zhejiang down to a district,
    # 4–200 characters of detail, a real name, a mainland mobile.
    for name, check in (
        ("district_code", clean_district_code),
        ("detail", clean_address_detail),
        ("recipient", clean_name),
        ("phone", clean_phone),
    ):
        try:
            cleaned[name] = check(values[name])
        except InvalidInput as exc:
            errors[field(name)] = next(iter(exc.fields.values()))
    if errors:
        raise InvalidInput(fields=errors)
    return cleaned["district_code"], cleaned["detail"], cleaned["recipient"], cleaned["phone"]


def _readers_with_service(reader_ids: list[int]) -> set[int]:
    """Those of ``reader_ids`` with an active card whose credit service is activated (SQL: read
    for every batch of orders)."""
    if not reader_ids:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT reader_id FROM {Card._meta.db_table} WHERE status = %s"
            " AND service_activated_at IS NOT NULL"
            f" AND reader_id IN ({', '.join(['%s'] * len(reader_ids))})",
            [Card.Status.ACTIVE, *reader_ids],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class _TitleRow:
    """What placing needs of a title (read as one SQL statement for every order)."""

    pk: int
    title: str
    list_price_fen: int
    is_active: bool
    category_name: str
    # An offer had a copy when the batch read it (the offers ``take_stock`` takes from). A
    # refusal's hint only (``_refused_by_what_is_left``); the copy itself is taken by
    # ``take_stock`` in the writing transaction.
    in_stock: bool = True


def _titles(ids: list[int]) -> dict[int, _TitleRow]:
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT t.id, t.title, t.list_price_fen, t.is_active, COALESCE(c.name, ''),"
            " EXISTS (SELECT 1 FROM catalog_offer o JOIN catalog_supplier s"
            " ON s.id = o.supplier_id WHERE o.title_id = t.id AND o.is_active AND o.stock > 0"
            " AND s.is_active)"
            " FROM catalog_title t LEFT JOIN catalog_category c ON c.id = t.category_id"
            f" WHERE t.id IN ({marks})",
            ids,
        )
        rows = cursor.fetchall()
    return {
        row[0]: _TitleRow(row[0], row[1], row[2], bool(row[3]), row[4], bool(row[5]))
        for row in rows
    }


@dataclass(frozen=True)
class _Left:
    """What the limits had left when a batch read them, before the writing transaction: each
    reader's open platform volumes and the current budget period's available money (None: no
    period). Only ever used to refuse (``_refused_by_what_is_left``)."""

    held: dict[int, int]
    available_fen: int | None


def _what_is_left(reader_ids: list[int]) -> _Left:
    """The batch's readers' quota rows and today's budget, one statement (SQL: read for every
    batch; the budget's row is the one with a NULL reader)."""
    today = connection.ops.adapt_datefield_value(clock.today())
    marks = ", ".join(["%s"] * len(reader_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT reader_id, open_volumes FROM orders_readerquota WHERE reader_id IN ({marks})"
            " UNION ALL SELECT NULL, (SELECT SUM(s.available_fen) FROM orders_budgetslot s"
            " WHERE s.period_id = p.id) FROM orders_budgetperiod p WHERE p.id = (SELECT id FROM"
            " orders_budgetperiod WHERE starts_on <= %s AND ends_on > %s"
            " ORDER BY starts_on DESC, id LIMIT 1)",
            [*reader_ids, today, today],
        )
        rows = cursor.fetchall()
    # int(): on PostgreSQL the union with the budget's SUM makes the column numeric.
    held = {reader: int(volumes) for reader, volumes in rows if reader is not None}
    budget = [fen for reader, fen in rows if reader is None]
    return _Left(held=held, available_fen=int(budget[0] or 0) if budget else None)


def _next_number(order: Order) -> str:
    """``XY`` + the local date + a 6-digit sequence taken from the row id (no counter row that
    every order would have to lock; unique as long as a day has fewer than a million orders)."""
    return f"XY{clock.local(order.placed_at):%Y%m%d}{order.pk % 1_000_000:06d}"


# --- placing -------------------------------------------------------------------------------------
#
# ``place_order`` runs in two parts (docs/decisions.md, "Placing: checks first, then one short
# writing transaction; group commit on SQLite"):
#
# 1. ``_prepare``, outside any transaction: everything that only reads the reader's own state or
#    the catalog (permission, account, title ids, the address — sealed here —, admittance, an
#    active card or service, the titles, titles on loan, a retried idempotency key). Reads never
#    hold SQLite's write lock and run in parallel on PostgreSQL.
# 2. ``_apply``, in the writing transaction: the budget period, the idempotency key again (the
#    authoritative check), then each limit as one conditional statement — the reader's quota
#    (which also serialises one reader's concurrent orders), the duplicate check behind it, a copy
#    of each title, the budget — and the inserts. A refusal raises inside the transaction (or
#    its savepoint) and undoes whatever the order had taken.
#
# The threads of a process hand their prepared orders to one committer: whoever holds the
# writer lock applies every order waiting at that moment in one transaction, each order in its own
# savepoint, so one refusal never touches the others and the reads, the inserts and the commit are
# paid once per batch. On SQLite the batches of different processes queue on the one writer; on
# PostgreSQL on an advisory lock (``_PLACING_LOCK``). An order placed inside a caller's
# transaction is applied alone, in it.


@dataclass
class _Prepared:
    """An order checked against everything that does not need the write lock."""

    actor: Actor
    reader: Reader
    rules: PlatformRules
    ids: list[int]
    titles: dict[int, _TitleRow]
    order: Order  # unsaved; the address already sealed
    idempotency_key: str
    open_credit: bool = True
    # The API's keyed request: its answer is recorded in the placing transaction (``_write``).
    claim: Claim | None = None


class _AlreadyPlaced(Exception):
    """A concurrent request with the same idempotency key committed while this one waited on the
    reader's quota row: undo what this one took and answer with that order."""

    def __init__(self, order: Order) -> None:
        super().__init__(order.number)
        self.order = order


@dataclass
class _Placed:
    """An order whose limits are taken inside the writing transaction; its rows are written with
    the rest of the batch (``_write``)."""

    prepared: _Prepared
    taken: dict[int, tuple[int, int]]  # title id → (offer id, supplier id)
    pieces: list[tuple[int, int]]  # budget (slot, fen)


@dataclass
class _Batch:
    """What every order of one writing transaction shares: the budget period and its slots (read
    once, inside it), and the orders placed so far, whose rows are written together at the end
    (one statement per table for the whole batch)."""

    period_id: int | None = None
    slots: tuple[int, ...] = ()
    _period_read: bool = False
    placed: list[_Placed] = field(default_factory=list)
    # Limits this transaction has found short: titles without a copy left, and the smallest
    # amount the budget could not cover. Inside the writing transaction neither comes back (the
    # batch's own orders only take, or give back what they took), so a later order of the batch
    # that needs one of them is refused before it takes anything (``_admit``).
    sold_out: set[int] = field(default_factory=set)
    short_fen: int | None = None
    # The placed orders whose credit orders the worker opens, enqueued after the commit.
    credit_order_ids: list[int] = field(default_factory=list)

    def period(self) -> int | None:
        if not self._period_read:
            self.period_id, self.slots = _current_period_and_slots()
            self._period_read = True
        return self.period_id

    def pending_key(self, prepared: _Prepared) -> _Placed | None:
        """An order of this batch, not yet written, with the same reader and idempotency key."""
        if not prepared.idempotency_key:
            return None
        for placed in self.placed:
            p = placed.prepared
            if p.reader.pk == prepared.reader.pk and p.idempotency_key == prepared.idempotency_key:
                return placed
        return None

    def pending_titles(self, reader_id: int) -> set[int]:
        """Titles of this batch's not yet written orders of ``reader_id``."""
        return {
            t for placed in self.placed if placed.prepared.reader.pk == reader_id
            for t in placed.prepared.ids
        }  # fmt: skip


def _current_period_and_slots() -> tuple[int | None, tuple[int, ...]]:
    """Today's budget period and its slot numbers, one statement (SQL: read per batch)."""
    today = connection.ops.adapt_datefield_value(clock.today())
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.id, s.slot FROM orders_budgetperiod p"
            " LEFT JOIN orders_budgetslot s ON s.period_id = p.id"
            " WHERE p.id = (SELECT id FROM orders_budgetperiod WHERE starts_on <= %s"
            " AND ends_on > %s ORDER BY starts_on DESC, id LIMIT 1) ORDER BY s.slot",
            [today, today],
        )
        rows = cursor.fetchall()
    if not rows:
        return None, ()
    return rows[0][0], tuple(slot for _pk, slot in rows if slot is not None)


class _GroupCommit:
    """One writer at a time per process; the writer applies every order queued meanwhile in one
    transaction (a savepoint each). Followers sleep on a condition and return as soon as the
    writer of their batch is done — not when they get their turn at a lock — so a finished batch
    never waits behind the next one, and the next batch gathers everyone who queued meanwhile."""

    MAX_BATCH = 64

    def __init__(self) -> None:
        self._state = threading.Condition()  # guards _queue and _busy
        self._queue: list[_Waiting] = []
        self._busy = False

    def run(self, prepared: _Prepared) -> tuple[Order, bool]:
        waiting = _Waiting(prepared)
        with self._state:
            self._queue.append(waiting)
            while self._busy and not waiting.done:
                self._state.wait()
            if waiting.done:
                return waiting.outcome()
            self._busy = True
            batch = self._queue[: self.MAX_BATCH]
            del self._queue[: self.MAX_BATCH]
            if waiting not in batch:  # more than MAX_BATCH were waiting: go with the first ones
                self._queue.remove(waiting)
                batch.append(waiting)
        credit_order_ids: list[int] = []
        try:
            credit_order_ids = _apply_batch(batch)
        finally:
            with self._state:
                self._busy = False
                self._state.notify_all()
        # After the next batch may start: each enqueue is a write to the task queue, and no
        # answer waits for it.
        _open_credit_orders_after_commit(credit_order_ids)
        return waiting.outcome()


class _Waiting:
    def __init__(self, prepared: _Prepared) -> None:
        self.prepared = prepared
        self.done = False
        self.result: tuple[Order, bool] | None = None
        self.error: BaseException | None = None

    def outcome(self) -> tuple[Order, bool]:
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result


def _apply_batch(batch: list[_Waiting]) -> list[int]:
    """Apply ``batch`` in one transaction: each order's limits in its own savepoint succeed or
    fail on their own; the placed orders' rows are then written together. If that or the commit
    fails, every order of the batch fails with it (none was told "placed" before the commit).
    Returns the committed orders whose credit orders are to be opened."""
    shared = _Batch()
    committed: list[int] = []
    answers: list[tuple[_Waiting, _Placed, bool]] = []
    try:
        # The reads of every order at once, before the write lock (reads never take it).
        ready = []
        for waiting, refusal in zip(batch, _check_reads([w.prepared for w in batch]), strict=True):
            if refusal is None:
                ready.append(waiting)
            else:
                waiting.error = refusal
        if ready:  # a batch its reads refused entirely never takes the writer
            with transaction.atomic():  # on SQLite: queued for the writer (core.sqlite_writer)
                if connection.vendor == "postgresql":
                    with connection.cursor() as cursor:
                        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_PLACING_LOCK])
                for waiting in ready:
                    try:
                        outcome = _admit(waiting.prepared, shared)
                        if outcome is None:
                            with transaction.atomic():
                                outcome = _take(waiting.prepared, shared)
                    except _AlreadyPlaced as already:
                        waiting.result = already.order, False
                    except Exception as exc:  # this order's refusal (or fault) only
                        waiting.error = exc
                    else:
                        if isinstance(outcome, Order):
                            waiting.result = outcome, False
                        else:
                            answers.append((waiting, *outcome))
                _write(shared)
            committed = shared.credit_order_ids
        for waiting, placed, created in answers:
            waiting.result = placed.prepared.order, created
    except Exception as exc:
        committed = []
        for waiting in batch:
            waiting.result, waiting.error = None, waiting.error or exc
    finally:
        for waiting in batch:
            waiting.done = True
    return committed


_orders = _GroupCommit()

# PostgreSQL: the key of the transaction-level advisory lock a placing batch takes first, so the
# batches of different processes (web workers) queue as SQLite's single writer queues them.
# Without it two batches would take the same offer and budget rows in different orders (one
# order's quota, offers and slots, then the next order's) and deadlock.
_PLACING_LOCK = 0x78796F72  # "xyor"


def place_order(
    *,
    actor: Actor,
    reader: Reader,
    title_ids: Sequence[int],
    channel: Channel,
    delivery_kind: str = DeliveryKind.HOME,
    address: dict[str, Any] | None = None,
    address_uid: str | None = None,
    pickup_library: Library | None = None,
    idempotency_key: str = "",
    open_credit: bool = True,
    claim: Claim | None = None,
) -> Order:
    """Order ``title_ids`` for ``reader``: reserve everything in one transaction; its commit
    enqueues the ``open_order_credit`` task that opens the credit order at the provider (the
    answer is the placed order, credit pending; ``open_credit=False`` leaves the credit order to
    the caller, e.g. the benchmark's service phase). A retry with the same ``idempotency_key``
    returns the first order. ``claim`` (its ``render`` gives the response the caller will give
    for the placed order): the request's ``Idempotency-Key`` record, written in the placing
    transaction (``core.idempotency.record_in_transaction``)."""
    prepared = _prepare(
        actor=actor.via(channel),
        reader=reader,
        title_ids=title_ids,
        channel=channel,
        delivery_kind=delivery_kind,
        address=address,
        address_uid=address_uid,
        pickup_library=pickup_library,
        idempotency_key=(idempotency_key or "")[:200],
    )
    if not isinstance(prepared, Order):
        prepared.open_credit = open_credit
        prepared.claim = claim
    if isinstance(prepared, Order):
        order = prepared  # a retried key: the first order
    elif not connection.in_atomic_block:
        order, _created = _orders.run(prepared)
    else:
        # Inside a caller's transaction the order commits with it, so it is never batched with
        # other threads' orders; its row locks queue it on PostgreSQL.
        (refusal,) = _check_reads([prepared])
        if refusal is not None:
            raise refusal
        try:
            with transaction.atomic():
                batch = _Batch()
                outcome = _apply(prepared, batch)
                _write(batch)
            _open_credit_orders_after_commit(batch.credit_order_ids)
            order = outcome if isinstance(outcome, Order) else outcome[0].prepared.order
        except _AlreadyPlaced as placed:
            order = placed.order
    return order


_KEY_USED = (
    "SELECT id FROM orders_order WHERE reader_id = %s AND idempotency_key = %s"
    " AND NOT (idempotency_key = '') LIMIT 1"  # the partial unique index's condition: uses it
)


def _existing_order(reader: Reader, key: str, ids: list[int]) -> Order | None:
    """The reader's order placed with ``key`` (same titles), or None. A raw existence check
    first: a keyed request makes it twice (before and inside the writing transaction), and the
    order row is loaded only for a retry."""
    if not key:
        return None
    with connection.cursor() as cursor:
        cursor.execute(_KEY_USED, [reader.pk, key])
        row = cursor.fetchone()
    if row is None:
        return None
    existing = Order.objects.filter(pk=row[0]).first()
    if existing is not None and sorted(existing.lines.values_list("title_id", flat=True)) != ids:
        raise IdempotencyMismatch()
    return existing


def _prepare(
    *,
    actor: Actor,
    reader: Reader,
    title_ids: Sequence[int],
    channel: Channel,
    delivery_kind: str,
    address: dict[str, Any] | None,
    address_uid: str | None,
    pickup_library: Library | None,
    idempotency_key: str,
) -> _Prepared | Order:
    """Every check that needs no write lock; an unsaved order with its sealed address. Returns
    the first order instead when ``idempotency_key`` was used already (same titles)."""
    if actor.kind is not ActorKind.SYSTEM and not (
        actor.kind is ActorKind.READER and actor.reader_id == reader.pk
    ):
        raise PermissionDenied(_("只能为本人下单"))
    if not reader.is_active or reader.deleted_at is not None:
        raise NoActiveService(_("读者账户已停用"))
    rules = platform_rules()
    ids = _clean_title_ids(title_ids, rules)
    existing = _existing_order(reader, idempotency_key, ids)
    if existing is not None:
        return existing
    if delivery_kind not in DeliveryKind.values:
        raise InvalidInput(fields={"delivery_kind": _("配送方式应为 home 或 pickup")})
    district = detail = recipient = phone = ""
    if delivery_kind == DeliveryKind.HOME:
        district, detail, recipient, phone = _clean_address(reader, address, address_uid)
    else:
        if not rules.pickup_enabled:
            raise PickupDisabled()
        if pickup_library is None or not pickup_library.is_active:
            raise InvalidInput(fields={"pickup_library": _("请选择自取的成员馆")})
    postage = postage_for(delivery_kind=delivery_kind, rules=rules)
    order = Order(
        number=f"T{uuid.uuid4().hex[:20]}",
        reader=reader,
        channel=channel.value,
        idempotency_key=idempotency_key,
        delivery_kind=delivery_kind,
        district_code=district,
        pickup_library=pickup_library if delivery_kind == DeliveryKind.PICKUP else None,
        postage_payer=postage.payer,
        postage_fen=postage.fen,
        list_price_total_fen=0,  # the titles' list prices, once ``_check_reads`` read them
        loan_days=rules.loan_days,
    )
    if delivery_kind == DeliveryKind.HOME:
        vault.seal_fields(
            order,
            {
                "address_detail_ct": detail,
                "address_recipient_ct": recipient,
                "address_phone_ct": phone,
            },
        )
    return _Prepared(
        actor=actor,
        reader=reader,
        rules=rules,
        ids=ids,
        titles={},
        order=order,
        idempotency_key=idempotency_key,
    )


def _check_reads(prepared: Sequence[_Prepared]) -> list[DomainError | None]:
    """The checks of placing that read the readers' standing and the catalog, for a whole batch
    of prepared orders in one statement each (admittance and consent, an active card with the
    service, the titles, titles on loan): the refusal of each order, or None. Fills in each
    passing order's titles and list price total."""
    readers = [p.reader for p in prepared]
    reader_ids = sorted({r.pk for r in readers})
    title_ids = sorted({t for p in prepared for t in p.ids})
    admitted = current_admittances(readers=readers)
    served = _readers_with_service(reader_ids)
    titles = _titles(title_ids)
    on_loan = hooks.titles_on_loan(reader_ids=reader_ids, title_ids=title_ids)
    # Keyed orders are decided in the writing transaction only (``_refused_by_what_is_left``).
    unkeyed = [p.reader.pk for p in prepared if not p.idempotency_key]
    left = _what_is_left(sorted(set(unkeyed))) if unkeyed else None
    refusals: list[DomainError | None] = []
    for p in prepared:
        try:
            _check_read(p, admitted.get(p.reader.pk), p.reader.pk in served, titles, on_loan)
            if left is not None:
                _refused_by_what_is_left(p, left)
        except DomainError as exc:
            refusals.append(exc)
        else:
            refusals.append(None)
    return refusals


def _check_read(
    prepared: _Prepared,
    admittance: Admittance | None,
    served: bool,
    titles: dict[int, _TitleRow],
    on_loan: set[tuple[int, int]],
) -> None:
    """One order's share of ``_check_reads``, in the order a reader would want the reasons."""
    if admittance is None or not admittance.admitted:
        raise NotAdmitted(reason="expired" if admittance is None else "refused")
    if not served:
        raise NoActiveService()
    for title_id in prepared.ids:
        title = titles.get(title_id)
        if title is None or not title.is_active:
            raise TitleUnavailable(_("该书已下架"), title_id=title_id, reason="withdrawn")
    duplicates = [t for t in prepared.ids if (prepared.reader.pk, t) in on_loan]
    if duplicates:
        raise _duplicate(titles[min(duplicates)], prepared.rules, "on_loan")
    prepared.titles = {t: titles[t] for t in prepared.ids}
    prepared.order.list_price_total_fen = sum(titles[t].list_price_fen for t in prepared.ids)


def _refused_by_what_is_left(prepared: _Prepared, left: _Left) -> None:
    """Refuse, before the writing transaction, an order that the limits as the batch read them
    already refuse — the reader's quota full, no copy of a title, not enough money — with the
    refusal the writing transaction would give, in its order (no budget period, quota, a title
    ordered recently, a copy, the budget). A refused order then never takes the writer (on
    SQLite the one writer of every process): most attempts under contention are refusals.

    Only ever a refusal: what was read is committed state, so the order is refused as it would
    have been at that moment (an order placed is placed only by the conditional statements in
    the writing transaction). A keyed order goes to the writing transaction whatever it read:
    there a concurrent request with the same key that committed meanwhile is its answer."""
    if prepared.idempotency_key:
        return
    total, ids = prepared.order.list_price_total_fen, prepared.ids
    if left.available_fen is None:
        raise BudgetExhausted(amount_fen=total)
    quota, held = prepared.rules.platform_quota, left.held.get(prepared.reader.pk, 0)
    if held + len(ids) > quota:
        raise _quota_exceeded(quota=quota, held=held)
    sold_out = [t for t in ids if not prepared.titles[t].in_stock]
    short = total > left.available_fen
    if not sold_out and not short:
        return
    if prepared.rules.duplicate_window_days:
        since = clock.now() - dt.timedelta(days=prepared.rules.duplicate_window_days)
        recent = _recently_ordered(prepared.reader.pk, ids, since)
        if recent:
            raise _duplicate(prepared.titles[min(recent)], prepared.rules, "recently_ordered")
    if sold_out:
        raise _out_of_stock(prepared.titles[sold_out[0]])
    raise BudgetExhausted(amount_fen=total)


def _duplicate(title: _TitleRow, rules: PlatformRules, reason: str) -> DuplicateTitle:
    return DuplicateTitle(
        _("《%(title)s》您正在借阅或 %(days)s 天内已订购过")
        % {"title": title.title, "days": rules.duplicate_window_days},
        title_id=title.pk,
        reason=reason,
    )


def _recently_ordered(reader_id: int, ids: list[int], since: dt.datetime) -> set[int]:
    """Titles among ``ids`` on a live or delivered line of the reader's orders since ``since``."""
    return set(
        OrderLine.objects.filter(
            order__reader_id=reader_id,
            title_id__in=ids,
            status__in=[LineStatus.PENDING, LineStatus.SHIPPED, LineStatus.DELIVERED],
            order__placed_at__gte=since,
        ).values_list("title_id", flat=True)
    )


def _raise_if_placed_meanwhile(prepared: _Prepared) -> None:
    """PostgreSQL: behind the reader's quota row lock, a concurrent request with the same key has
    committed (or rolled back), perhaps taking the last unit of quota; its order is the answer.
    (On SQLite the single writer made the check at the start of ``_apply`` final.)"""
    if prepared.idempotency_key and connection.vendor != "sqlite":
        existing = _existing_order(prepared.reader, prepared.idempotency_key, prepared.ids)
        if existing is not None:
            raise _AlreadyPlaced(existing)


def _apply(prepared: _Prepared, batch: _Batch) -> Order | tuple[_Placed, bool]:
    """The limits of placing, inside the caller's transaction (or savepoint): the first order
    when the idempotency key was used already, else what this order took (added to ``batch``;
    its rows are written by ``_write`` with the batch's others) and whether it is new."""
    admitted = _admit(prepared, batch)
    if admitted is not None:
        return admitted
    return _take(prepared, batch)


def _admit(prepared: _Prepared, batch: _Batch) -> Order | tuple[_Placed, bool] | None:
    """What ``_apply`` decides before taking anything (reads only, so the group commit needs no
    savepoint for it): the first order of a used idempotency key, the same submission earlier in
    the batch, no budget period, or a limit the batch has already found short. None: go on and
    take the limits."""
    ids, titles = prepared.ids, prepared.titles
    existing = _existing_order(prepared.reader, prepared.idempotency_key, ids)
    if existing is not None:
        return existing
    same = batch.pending_key(prepared)
    if same is not None:  # the same submission twice in one batch
        if same.prepared.ids != ids:
            raise IdempotencyMismatch()
        return same, False
    total = prepared.order.list_price_total_fen
    if batch.period() is None:
        raise BudgetExhausted(amount_fen=total)
    # Refused as the statement that found the shortage refused its order: that order and this
    # one were both waiting when it ran (an order joins a batch before the batch starts).
    for title_id in ids:
        if title_id in batch.sold_out:
            raise _out_of_stock(titles[title_id])
    if batch.short_fen is not None and total >= batch.short_fen:
        raise BudgetExhausted(amount_fen=total)
    return None


def _out_of_stock(title: _TitleRow) -> TitleUnavailable:
    return TitleUnavailable(
        _("《%(title)s》暂时无货，可加入等候名单") % {"title": title.title},
        title_id=title.pk,
        reason="out_of_stock",
    )


def _take(prepared: _Prepared, batch: _Batch) -> tuple[_Placed, bool]:
    """The order's quota, duplicate check, a copy of each title and its budget, each one
    conditional statement; a refusal raises, and the caller's savepoint gives back what was
    taken."""
    reader, rules, ids, titles = prepared.reader, prepared.rules, prepared.ids, prepared.titles
    period_id = batch.period_id
    assert period_id is not None  # ``_admit`` refused the order otherwise
    order = prepared.order
    total = order.list_price_total_fen
    try:
        _take_quota(reader=reader, volumes=len(ids), quota=rules.platform_quota)
    except QuotaExceeded:
        _raise_if_placed_meanwhile(prepared)
        raise
    _raise_if_placed_meanwhile(prepared)
    now = clock.now()
    if rules.duplicate_window_days:
        # Behind the quota row: a concurrent order of the same reader has committed (or not) by
        # now, so two submissions of one title cannot both pass; orders of this batch not yet
        # written count too.
        since = now - dt.timedelta(days=rules.duplicate_window_days)
        recent = (_recently_ordered(reader.pk, ids, since) | batch.pending_titles(reader.pk)) & set(
            ids
        )
        if recent:
            raise _duplicate(titles[min(recent)], rules, "recently_ordered")
    taken: dict[int, tuple[int, int]] = {}
    for title_id in ids:
        copy = take_stock(title_id=title_id)
        if copy is None:
            batch.sold_out.add(title_id)
            raise _out_of_stock(titles[title_id])
        taken[title_id] = copy
    pieces = _commit_budget(period_id=period_id, slots=batch.slots, amount=total, hint=reader.pk)
    if pieces is None:
        batch.short_fen = total if batch.short_fen is None else min(batch.short_fen, total)
        raise BudgetExhausted(amount_fen=total)
    order.budget_period_id = period_id
    order.placed_at = now
    placed = _Placed(prepared=prepared, taken=taken, pieces=pieces)
    batch.placed.append(placed)
    return placed, True


def _write(batch: _Batch) -> None:
    """The rows of every order placed in ``batch``: one INSERT per table for the whole batch
    (orders, their numbers, lines, ledger commitments, events, audit rows)."""
    placed = batch.placed
    if not placed:
        return
    orders = [p.prepared.order for p in placed]
    if any(p.prepared.idempotency_key for p in placed) and len(placed) == 1:
        try:
            with transaction.atomic():
                insert_rows(orders, return_ids=True)
        except IntegrityError:
            # The same idempotency key committed a moment ago by a concurrent request.
            raise IdempotencyMismatch(_("该订单正在提交，请稍候刷新")) from None
    else:
        insert_rows(orders, return_ids=True)
    for order in orders:
        order.number = _next_number(order)
    with connection.cursor() as cursor:
        cursor.executemany(
            "UPDATE orders_order SET number = %s WHERE id = %s",
            [(order.number, order.pk) for order in orders],
        )
    lines: list[OrderLine] = []
    ledger: list[LedgerEntry] = []
    events: list[OrderEvent] = []
    entries = []
    for p in placed:
        order, titles, actor = p.prepared.order, p.prepared.titles, p.prepared.actor
        lines += [
            OrderLine(
                order=order,
                title_id=t,
                offer_id=p.taken[t][0],
                supplier_id=p.taken[t][1],
                category_name=titles[t].category_name,
                list_price_fen=titles[t].list_price_fen,
            )
            for t in p.prepared.ids
        ]
        ledger += [
            LedgerEntry(
                period_id=order.budget_period_id,
                slot=slot,
                kind=LedgerEntry.Kind.COMMITMENT,
                amount_fen=fen,
                order=order,
                actor_ref=actor.ref,
            )
            for slot, fen in p.pieces
        ]
        volumes = len(p.prepared.ids)
        events.append(
            OrderEvent.build(
                actor=actor,
                from_state="",
                to_state=Status.PLACED,
                note=f"volumes={volumes}",
                order=order,
            )
        )
        entries.append(
            audit.entry(
                actor=actor,
                action="order.placed",
                obj=order,
                number=order.number,
                volumes=volumes,
                list_price_total_fen=order.list_price_total_fen,
                delivery_kind=order.delivery_kind,
                postage_payer=order.postage_payer,
            )
        )
    insert_rows(lines, return_ids=True)
    insert_rows(ledger)
    record_transitions(events, entries)
    # The ordered titles leave their readers' shelves (pages and API alike; one DELETE).
    take_ordered_off_shelves(
        ordered=[(p.prepared.reader.pk, t) for p in placed for t in p.prepared.ids]
    )
    # The placed order carries what it was written with (its lines with their titles' names, its
    # first event), so the answer to the request needs no second read.
    by_order: dict[int, list[OrderLine]] = {}
    for line in lines:
        by_order.setdefault(line.order_id, []).append(line)
    for p, event in zip(placed, events, strict=True):
        order, titles = p.prepared.order, p.prepared.titles
        for line in by_order[order.pk]:
            # Only the name is known here; any other field loads from the database when read.
            line.title = Title.from_db(
                "default", ["id", "title"], [line.title_id, titles[line.title_id].title]
            )
        order._prefetched_objects_cache = {  # type: ignore[attr-defined]  # Django's prefetch cache
            "lines": _filled(OrderLine, order, by_order[order.pk]),
            "events": _filled(OrderEvent, order, [event]),
        }
    # The answers of keyed API requests, written with the orders (one statement).
    record_answers(
        [(p.claim, *p.claim.answer_for(p.order)) for p in (q.prepared for q in placed) if p.claim]
    )
    _announce_placed(placed)
    # Their credit orders are enqueued once the batch has committed and let its waiters go
    # (``_GroupCommit.run``): one task for the batch.
    batch.credit_order_ids = [p.prepared.order.pk for p in placed if p.prepared.open_credit]


def _filled(model: Any, order: Order, rows: list[Any]) -> Any:
    """``order``'s rows of ``model`` as ``prefetch_related`` leaves them: iterating reads
    nothing; anything built on it (``order_by``, ``filter``) queries as usual. The filter on the
    order is deferred, as Django's related managers defer theirs, so it is compiled only when
    someone builds on it (compiling it for every placed order was ~8 % of placing's CPU)."""
    queryset = model._default_manager.get_queryset()
    queryset._defer_next_filter = True
    queryset = queryset.filter(order=order)
    queryset._result_cache = rows
    queryset._prefetch_done = True
    return queryset


def _announce_placed(placed: list[_Placed]) -> None:
    """``_announce(order, "order.placed")`` for a whole batch, with its reads made once: who
    subscribes (the operator library, the orders' suppliers — known from what each order took,
    not read back) and which wait-list entries the batch ends. Webhook rows and messages are
    still one per order and subscriber, as ``_announce`` writes them."""
    supplier_ids = sorted({supplier for p in placed for _offer, supplier in p.taken.values()})
    library = listening_operator_library()
    listening = listening_suppliers(supplier_ids)
    for p in placed:
        order = p.prepared.order
        payload = {
            "number": order.number,
            "status": order.status,
            "channel": order.channel,
            "list_price_total_fen": order.list_price_total_fen,
        }
        if library is not None:
            publish_library_event(library=library, event_type="order.placed", data=payload)
        suppliers = {supplier for _offer, supplier in p.taken.values()} & listening
        if suppliers:
            publish_supplier_event(supplier_ids=suppliers, event_type="order.placed", data=payload)
    notify_readers(notices=_notices([p.prepared.order for p in placed], "order.placed"))
    _end_wait_for_orders(placed)


def _end_wait_for_orders(placed: list[_Placed]) -> None:
    """The batch's readers ordered titles they were waiting for: those entries are done (one
    read for the batch; an update only where there is something to end)."""
    ordered = {(p.prepared.reader.pk, t) for p in placed for t in p.prepared.ids}
    readers = sorted({reader for reader, _t in ordered})
    titles = sorted({title for _r, title in ordered})
    with connection.cursor() as cursor:  # SQL: read for every batch
        cursor.execute(
            "SELECT id, reader_id, title_id FROM orders_waitlistentry WHERE status IN (%s, %s)"
            f" AND reader_id IN ({', '.join(['%s'] * len(readers))})"
            f" AND title_id IN ({', '.join(['%s'] * len(titles))})",
            [Waiting.WAITING, Waiting.NOTIFIED, *readers, *titles],
        )
        entries = cursor.fetchall()
    done = [pk for pk, reader, title in entries if (reader, title) in ordered]
    if done:
        WaitListEntry.objects.filter(pk__in=done).update(
            status=Waiting.ORDERED, updated_at=clock.now()
        )


def _open_credit_orders_after_commit(order_ids: list[int]) -> None:
    """One task for the placed orders' credit orders once they have committed (at once outside
    a transaction; with the caller's commit inside one). Robust: the orders are committed
    whatever the queue does; a failed enqueue is logged and the minutely
    ``expire_waiting_orders`` enqueues those orders again."""
    if order_ids:
        transaction.on_commit(lambda: _enqueue_credit_orders(order_ids), robust=True)


def _enqueue_credit_orders(order_ids: list[int]) -> None:
    from xinyue.orders.tasks import open_order_credits

    open_order_credits.enqueue(order_ids=order_ids)


# --- the credit order -----------------------------------------------------------------------


# A provider that is down: the task tries again after 30 s, 1 min … then hourly; after the last
# attempt (about a day) the order is cancelled and releases what it held.
CREDIT_BACKOFF = Backoff(steps=(30, 60, 120, 300, 900, 1800, 3600), max_attempts=30)


def open_order_credit(*, order_id: int, attempts: int = 0) -> int | None:
    """The ``open_order_credit`` task body (enqueued when the order commits): open the placed
    order's credit order and move the order on. Returns how many attempts have failed when the
    provider was down (the task tries again by ``CREDIT_BACKOFF``), None when done. The same
    reference every time, and the credit app's fixed provider key, mean a retry never opens a
    second credit order."""
    # Raw, and only what opening uses (the order's columns below; the reader's standing for
    # the actor, the credit checks and the message): the rest stays deferred, loaded if touched.
    order = one_row(Order, _OPENING_ORDER_SQL, [order_id])
    if order is None or order.status != Status.PLACED:
        return None
    reader = reader_standing(order.reader_id, active_only=False)
    if reader is None:  # a protected foreign key: only a broken database gets here
        raise Reader.DoesNotExist(f"reader {order.reader_id}")
    order.reader = reader
    actor = reader_actor(order.reader, channel=Channel(order.channel))
    try:
        order, credit = submit_credit_order(actor=actor, order=order)
    except ProviderFailed as exc:
        log.warning("order %s: provider unavailable: %s", order.number, exc)
    else:
        if order.status in (Status.CANCELLED, Status.REJECTED):
            # Cancelled by the reader while the provider was opening it: nothing may stay open.
            _cancel_credit(actor, order)
            return None
        if order.status != Status.PLACED or credit is None or not credit.pending_op:
            return None
    attempts += 1
    if CREDIT_BACKOFF.gives_up(attempts):
        _close(actor=SYSTEM, order=order, to=Status.CANCELLED, reason="credit:unavailable")
        return None
    return attempts


# What opening a credit order reads of the order and of its reader.
_OPENING_ORDER_SQL = (
    "SELECT id, number, reader_id, channel, status, list_price_total_fen, loan_days, placed_at,"
    f" credit_reference, confirm_url, confirm_expires_at FROM {Order._meta.db_table} WHERE id = %s"
)


def submit_credit_order(*, actor: Actor, order: Order) -> tuple[Order, CreditOrder | None]:
    """Open the order's credit order at the provider (outside any transaction; idempotent by the
    reference ``order:<number>``) and move the order on with what the provider said: a refusal
    cancels the order; ``ProviderFailed`` (the provider is down) leaves it placed for a retry.
    Returns the order and its credit order (None when the credit app refused to open one)."""
    from xinyue.credit.services import open_credit_order, sync_credit_order

    rules = platform_rules()
    reference = f"order:{order.number}"
    titles = list(
        OrderLine.objects.filter(order_id=order.pk)
        .order_by("pk")
        .values_list("title__title", flat=True)
    )
    goods = titles[0] if titles else "图书"
    volumes = len(titles)
    credit_actor = _credit_actor(actor)
    if order.credit_reference != reference:
        Order.objects.filter(pk=order.pk, credit_reference="").update(credit_reference=reference)
        order.credit_reference = reference
    try:
        credit = open_credit_order(
            actor=credit_actor,
            reader=order.reader,
            reference=reference,
            goods_name=f"{goods}等{volumes}册" if volumes > 1 else goods,
            deposit_fen=order.list_price_total_fen,
            due_at=order.placed_at + dt.timedelta(days=order.loan_days + DELIVERY_ALLOWANCE_DAYS),
            shop_name="浙江图书馆",
            confirm_by_reader=rules.credit_confirm_by_reader,
        )
    except ProviderFailed:
        raise
    except DomainError as exc:
        log.info("order %s: credit order refused: %s", order.number, exc)
        closed = _close(actor=actor, order=order, to=Status.CANCELLED, reason=f"credit:{exc.code}")
        return closed, None
    if credit.state == CreditOrder.State.PENDING_CONFIRM and not rules.credit_confirm_by_reader:
        # Opened for the reader's provider identity, yet the provider's answer did not say
        # "borrowing" (Zhima's does: the adapter reads "admitted" so): a query says it now
        # rather than the provider's notification later.
        try:
            credit = sync_credit_order(order=credit)
        except DomainError as exc:
            log.warning("order %s: credit query failed: %s", order.number, exc)
    return _follow_credit(actor=actor, order=order, credit=credit), credit


def _follow_credit(*, actor: Actor, order: Order, credit: CreditOrder) -> Order:
    State = CreditOrder.State
    if credit.state in (State.BORROWED, State.OVERDUE):
        with transaction.atomic():
            now = clock.now()
            # One conditional UPDATE (the row's lock on PostgreSQL) instead of a locked read
            # and a save: only a still placed order is confirmed, once.
            moved = Order.objects.filter(pk=order.pk, status=Status.PLACED).update(
                status=Status.CONFIRMED, confirmed_at=now, confirm_url="", updated_at=now
            )
            if not moved:
                return Order.objects.get(pk=order.pk)
            order.status, order.confirmed_at, order.confirm_url = Status.CONFIRMED, now, ""
            order.updated_at = now
            _event(order, actor, Status.PLACED, Status.CONFIRMED, "credit order open")
        return order
    if credit.state in (State.REJECTED, State.CANCELLED):
        return _close(actor=actor, order=order, to=Status.CANCELLED, reason="credit:rejected")
    if credit.state == State.PENDING_CONFIRM:
        expires = order.confirm_expires_at or clock.now() + dt.timedelta(
            minutes=platform_rules().confirm_minutes
        )
        with transaction.atomic():
            first = Order.objects.filter(pk=order.pk, status=Status.PLACED, confirm_url="").update(
                confirm_url=credit.confirm_url, confirm_expires_at=expires
            )
            order.confirm_url, order.confirm_expires_at = credit.confirm_url, expires
            if first:  # told once, when the provider first asks the reader to confirm
                _event(
                    order,
                    actor,
                    Status.PLACED,
                    Status.PLACED,
                    "awaiting the reader's confirmation at the provider",
                    step="order.awaiting_confirmation",
                    confirm_expires_at=expires.isoformat(),
                )
    return order  # NEW with an operation pending at the provider: finished by a retry


def refresh_order(*, actor: Actor, order: Order) -> Order:
    """Move a waiting order on: the reader confirmed at the provider, the provider answered a
    retried call, or the confirmation window passed (then the order expires and releases)."""
    from xinyue.credit.services import sync_credit_order

    if order.status != Status.PLACED:
        return order
    credit = (
        credit_order_by_reference(reference=order.credit_reference)
        if order.credit_reference
        else None
    )
    if credit is None:
        return order  # the ``open_order_credit`` task opens it
    if credit.state == CreditOrder.State.PENDING_CONFIRM:
        try:
            credit = sync_credit_order(order=credit)
        except DomainError as exc:
            log.warning("order %s: credit sync failed: %s", order.number, exc)
    order = _follow_credit(actor=actor, order=order, credit=credit)
    if (
        order.status == Status.PLACED
        and order.confirm_expires_at is not None
        and order.confirm_expires_at <= clock.now()
    ):
        order = _close(actor=actor, order=order, to=Status.CANCELLED, reason="confirm_expired")
    return order


def expire_waiting_orders() -> int:
    """The periodic job: every order still waiting for the provider is refreshed (and expires
    when its window has passed). Returns how many orders it looked at."""
    count = 0
    lost = clock.now() - dt.timedelta(minutes=10)
    for order in Order.objects.filter(status=Status.PLACED).order_by("id")[:500]:
        if not order.credit_reference and order.placed_at < lost:
            _enqueue_credit_orders([order.pk])  # its task was lost (a worker's queue dropped)
        else:
            refresh_order(actor=SYSTEM, order=order)
        count += 1
    return count


def _cancel_credit(actor: Actor, order: Order) -> None:
    from xinyue.credit.services import cancel_credit_order

    if not order.credit_reference:
        return
    credit = credit_order_by_reference(reference=order.credit_reference)
    if credit is None or not credit.is_open:
        return
    try:
        cancel_credit_order(actor=_credit_actor(actor), order=credit, reason="订单取消")
    except DomainError as exc:  # recorded on the credit order; reconciliation finishes it
        log.warning("order %s: credit cancel failed: %s", order.number, exc)


# --- closing: cancel, reject, expire -----------------------------------------------------------


def _release_lines(*, actor: Actor, order: Order, lines: Iterable[OrderLine], to: str) -> int:
    """Give back what ``lines`` held (stock, quota, budget) and mark them ``to``."""
    released = 0
    for line in lines:
        return_stock(offer_id=line.offer_id)
        _settle_budget(
            order=order,
            amount=line.list_price_fen,
            kind=LedgerEntry.Kind.RELEASE,
            actor=actor,
            line=line,
        )
        line.status = to
        line.save(update_fields=["status", "updated_at"])
        released += 1
    if released:
        release_platform_volumes(reader_id=order.reader_id, volumes=released)
    return released


def _gives_titles_back(reason: str) -> bool:
    """An order the platform closed without the reader getting the books — the provider refused
    or never answered the credit order, the confirmation window passed — puts its titles back on
    the shelf. A reader's own cancel, the operator's, or a supplier's rejection does not."""
    return reason.startswith("credit:") or reason == "confirm_expired"


def _close(*, actor: Actor, order: Order, to: str, reason: str) -> Order:
    """Cancel or reject a whole order that has not shipped; releases, then cancels the credit
    order after the commit."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status not in (Status.PLACED, Status.CONFIRMED):
            raise OrderState(status=locked.status)
        if locked.lines.filter(status__in=[LineStatus.SHIPPED, LineStatus.DELIVERED]).exists():
            raise OrderState(_("订单已发货，不能取消"), status=locked.status)
        before = locked.status
        _release_lines(
            actor=actor,
            order=locked,
            lines=locked.lines.filter(status=LineStatus.PENDING),
            to=LineStatus.CANCELLED if to == Status.CANCELLED else LineStatus.REJECTED,
        )
        locked.status = to
        locked.status_reason = reason[:200]
        locked.closed_at = clock.now()
        locked.confirm_url = ""
        locked.save(
            update_fields=["status", "status_reason", "closed_at", "confirm_url", "updated_at"]
        )
        step = "order.expired" if reason == "confirm_expired" else f"order.{to}"
        _event(locked, actor, before, to, reason, step=step, reason=reason)
        audit.record(
            actor=actor, action=f"order.{to}", obj=locked, number=locked.number, reason=reason
        )
        if _gives_titles_back(reason):
            put_back_on_shelf(
                actor=SYSTEM,
                reader_id=locked.reader_id,
                title_ids=locked.lines.order_by("id").values_list("title_id", flat=True),
                order_number=locked.number,
            )
    _cancel_credit(actor, locked)
    return locked


def cancel_order(*, actor: Actor, order: Order, reason: str = "") -> Order:
    """The reader (or the operator) cancels an order before anything shipped."""
    _require_reader_or_operator(actor, order)
    return _close(
        actor=actor, order=order, to=Status.CANCELLED, reason=(reason or "reader").strip()
    )


def reject_line(*, actor: Actor, order: Order, line_id: int, reason: str) -> Order:
    """The supplier cannot fill a line: it releases what it held; an order left with nothing to
    deliver is rejected (and its credit order cancelled)."""
    reason = (reason or "").strip()
    if not 1 <= len(reason) <= 200:
        raise InvalidInput(fields={"reason": _("请填写原因（不超过200字）")})
    with transaction.atomic():
        locked = _lock(order)
        line = locked.lines.filter(pk=line_id).first()
        if line is None:
            raise InvalidInput(fields={"line_id": _("订单中没有该行")})
        require_supplier(actor, line.supplier_id)
        if (
            locked.status not in (Status.CONFIRMED, Status.SHIPPED)
            or line.status != LineStatus.PENDING
        ):
            raise OrderState(status=locked.status, line_status=line.status)
        _release_lines(actor=actor, order=locked, lines=[line], to=LineStatus.REJECTED)
        OrderLine.objects.filter(pk=line.pk).update(status_reason=reason)
        _event(
            locked,
            actor,
            locked.status,
            locked.status,
            f"line {line.pk} rejected: {reason}",
            step="order.line_rejected",
            line_id=line.pk,
            title_id=line.title_id,
            title=line.title.title,
            reason=reason,
        )
        audit.record(
            actor=actor, action="order.line_rejected", obj=locked, line_id=line.pk, reason=reason
        )
        close_whole = not locked.lines.exclude(
            status__in=[LineStatus.REJECTED, LineStatus.CANCELLED]
        ).exists()
        finished = _finish_if_done(actor=actor, order=locked)
    if close_whole:
        with transaction.atomic():
            locked = _lock(locked)
            before = locked.status
            locked.status = Status.REJECTED
            locked.status_reason = reason[:200]
            locked.closed_at = clock.now()
            locked.save(update_fields=["status", "status_reason", "closed_at", "updated_at"])
            _event(locked, actor, before, Status.REJECTED, reason, reason=reason)
        _cancel_credit(actor, locked)
        return locked
    return finished


# --- supplier: ship, deliver; reader: receipt -------------------------------------------------


def ship_lines(
    *,
    actor: Actor,
    order: Order,
    lines: Sequence[tuple[int, str]],
    carrier: str,
    tracking_number: str,
) -> Shipment:
    """Ship some lines (partial shipments allowed): each gets its barcode and becomes an item
    owned by the operator library."""
    carrier = (carrier or "").strip()
    tracking_number = (tracking_number or "").strip()
    errors: dict[str, str] = {}
    if not 1 <= len(carrier) <= 40:
        errors["carrier"] = _("请填写承运商")
    if not TRACKING_RE.match(tracking_number):
        errors["tracking_number"] = _("运单号应为4–40位字母或数字")
    if not lines:
        errors["lines"] = _("请至少发出一册")
    barcodes = [str(b or "").strip() for _id, b in lines]
    for i, barcode in enumerate(barcodes):
        if not BARCODE_RE.match(barcode):
            errors[f"lines.{i}.barcode"] = _("条码应为4–40位字母、数字或连字符")
    if len(set(barcodes)) != len(barcodes):
        errors["lines"] = _("条码不能重复")
    if errors:
        raise InvalidInput(fields=errors)
    with transaction.atomic():
        locked = _lock(order)
        if locked.status not in (Status.CONFIRMED, Status.SHIPPED):
            raise OrderState(status=locked.status)
        by_id = {line.pk: line for line in locked.lines.all()}
        chosen: list[OrderLine] = []
        for i, (line_id, _barcode) in enumerate(lines):
            line = by_id.get(int(line_id))
            if line is None:
                raise InvalidInput(fields={f"lines.{i}.line_id": _("订单中没有该行")})
            if line.status != LineStatus.PENDING:
                raise OrderState(_("该行已发货或已关闭"), line_id=line.pk, line_status=line.status)
            chosen.append(line)
        suppliers = {line.supplier_id for line in chosen}
        if len(suppliers) != 1:
            raise InvalidInput(fields={"lines": _("一个包裹只能包含同一书商的图书")})
        supplier_id = suppliers.pop()
        require_supplier(actor, supplier_id)
        taken = set(
            OrderLine.objects.filter(barcode__in=barcodes).values_list("barcode", flat=True)
        )
        if taken:
            raise InvalidInput(
                fields={"lines": _("条码已被使用：%(codes)s") % {"codes": ", ".join(sorted(taken))}}
            )
        now = clock.now()
        shipment = Shipment.objects.create(
            order=locked,
            supplier_id=supplier_id,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=now,
        )
        for line, barcode in zip(chosen, barcodes, strict=True):
            line.status = LineStatus.SHIPPED
            line.barcode = barcode
            line.shipment = shipment
            line.save(update_fields=["status", "barcode", "shipment", "updated_at"])
        hooks.items_shipped(actor=actor, lines=chosen)
        before = locked.status
        if before == Status.CONFIRMED:
            locked.status = Status.SHIPPED
            locked.shipped_at = now
            locked.save(update_fields=["status", "shipped_at", "updated_at"])
        step = "order.shipped"
        if locked.lines.filter(status=LineStatus.PENDING).exists():
            step = "order.partially_shipped"  # lines still to ship
        _event(
            locked,
            actor,
            before,
            locked.status,
            f"{carrier} {tracking_number} ×{len(chosen)}",
            step=step,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=[line.pk for line in chosen],
        )
        audit.record(
            actor=actor,
            action="order.shipped",
            obj=locked,
            number=locked.number,
            carrier=carrier,
            tracking_number=tracking_number,
            lines=[line.pk for line in chosen],
        )
    return shipment


def _deliver(*, actor: Actor, order: Order, lines: list[OrderLine]) -> Order:
    """Lines arrived: spend their budget, start a platform loan for each (in the caller's
    transaction, ``order`` locked)."""
    for line in lines:
        _settle_budget(
            order=order,
            amount=line.list_price_fen,
            kind=LedgerEntry.Kind.SPEND,
            actor=actor,
            line=line,
        )
        line.status = LineStatus.DELIVERED
        line.save(update_fields=["status", "updated_at"])
    if lines:
        hooks.loans_started(actor=actor, order=order, lines=lines)
    return _finish_if_done(actor=actor, order=order)


def _finish_if_done(*, actor: Actor, order: Order) -> Order:
    if order.status != Status.SHIPPED:
        return order
    if order.lines.filter(status__in=[LineStatus.PENDING, LineStatus.SHIPPED]).exists():
        return order
    if not order.lines.filter(status=LineStatus.DELIVERED).exists():
        return order
    order.status = Status.DELIVERED
    order.delivered_at = clock.now()
    order.save(update_fields=["status", "delivered_at", "updated_at"])
    _event(order, actor, Status.SHIPPED, Status.DELIVERED)
    audit.record(actor=actor, action="order.delivered", obj=order, number=order.number)
    return order


def mark_delivered(*, actor: Actor, order: Order) -> Order:
    """The supplier's carrier delivered: every shipped line of theirs starts its loan."""
    with transaction.atomic():
        locked = _lock(order)
        if locked.status != Status.SHIPPED:
            raise OrderState(status=locked.status)
        lines = list(locked.lines.filter(status=LineStatus.SHIPPED))
        if actor.kind is ActorKind.SUPPLIER:
            lines = [line for line in lines if line.supplier_id == actor.supplier_id]
            if not lines:
                raise PermissionDenied(_("不能操作其他书商的数据"))
        else:
            require_operator(actor)
        return _deliver(actor=actor, order=locked, lines=lines)


def confirm_receipt(*, actor: Actor, order: Order) -> Order:
    """The reader says the parcel arrived: what shipped is delivered (if the supplier had not
    said so yet) and the receipt is recorded. Idempotent."""
    _require_reader_or_operator(actor, order)
    with transaction.atomic():
        locked = _lock(order)
        if locked.status not in (Status.SHIPPED, Status.DELIVERED):
            raise OrderState(status=locked.status)
        if locked.status == Status.SHIPPED:
            locked = _deliver(
                actor=actor,
                order=locked,
                lines=list(locked.lines.filter(status=LineStatus.SHIPPED)),
            )
        if locked.received_at is None:
            locked.received_at = clock.now()
            locked.save(update_fields=["received_at", "updated_at"])
            _event(
                locked,
                actor,
                locked.status,
                locked.status,
                "receipt confirmed",
                step="order.received",
            )
    return locked


# --- operator: rules and budget -----------------------------------------------------------------

RULE_FIELDS = (
    "max_volumes_per_order",
    "platform_quota",
    "loan_days",
    "duplicate_window_days",
    "home_postage_payer",
    "home_postage_fen",
    "pickup_enabled",
    "pickup_postage_payer",
    "pickup_postage_fen",
    "confirm_minutes",
    "credit_confirm_by_reader",
    "budget_slots",
    "waitlist_window_hours",
)


# The sane range of each numeric rule (inclusive): a typo must not stop ordering or open it wide.
RULE_BOUNDS = {
    "max_volumes_per_order": (1, 20),
    "platform_quota": (1, 100),
    "loan_days": (1, 365),
    "duplicate_window_days": (0, 3650),
    "home_postage_fen": (0, 100_00),
    "pickup_postage_fen": (0, 100_00),
    "confirm_minutes": (5, 1440),
    "budget_slots": (1, 64),
}


@transaction.atomic
def set_rules(*, actor: Actor, **values: Any) -> PlatformRules:
    """The operator changes the ordering rules; the change is audited (before → after)."""
    require_operator(actor)
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise InvalidInput(fields={name: _("未知规则") for name in sorted(unknown)})
    out_of_range = {
        name: _("应为 %(low)s 至 %(high)s 之间的整数") % {"low": low, "high": high}
        for name, (low, high) in RULE_BOUNDS.items()
        if name in values
        and (
            isinstance(values[name], bool)
            or not isinstance(values[name], int)
            or not low <= values[name] <= high
        )
    }
    if out_of_range:
        raise InvalidInput(fields=out_of_range)
    rules = PlatformRules.objects.select_for_update().filter(pk=1).first() or PlatformRules(pk=1)
    before = {name: getattr(rules, name) for name in values}
    for name, value in values.items():
        setattr(rules, name, value)
    try:
        rules.full_clean()
    except Exception as exc:  # django ValidationError → our field errors
        fields = getattr(exc, "message_dict", {"rules": [str(exc)]})
        raise InvalidInput(fields={k: "; ".join(map(str, v)) for k, v in fields.items()}) from None
    rules.save()
    audit.record(actor=actor, action="orders.rules_changed", obj=rules, before=before, after=values)
    # This process reads the new rules at once; forgotten again at the commit, in case another
    # thread kept the old row meanwhile (other processes follow within the cache's time to live).
    forget_platform_rules()
    transaction.on_commit(forget_platform_rules)
    return rules


@transaction.atomic
def open_budget_period(
    *, actor: Actor, name: str, starts_on: dt.date, ends_on: dt.date
) -> BudgetPeriod:
    require_operator(actor)
    name = (name or "").strip()
    if not 1 <= len(name) <= 40:
        raise InvalidInput(fields={"name": _("请填写名称（不超过40字）")})
    if ends_on <= starts_on:
        raise InvalidInput(fields={"ends_on": _("结束日期应晚于开始日期")})
    if BudgetPeriod.objects.filter(starts_on__lt=ends_on, ends_on__gt=starts_on).exists():
        raise InvalidInput(fields={"starts_on": _("与已有预算期重叠")})
    if BudgetPeriod.objects.filter(name=name).exists():
        raise InvalidInput(fields={"name": _("名称已被使用")})
    period = BudgetPeriod.objects.create(name=name, starts_on=starts_on, ends_on=ends_on)
    audit.record(
        actor=actor,
        action="orders.budget_period_opened",
        obj=period,
        name=name,
        starts_on=str(starts_on),
        ends_on=str(ends_on),
    )
    return period


@transaction.atomic
def top_up_budget(*, actor: Actor, period: BudgetPeriod, amount_fen: int, note: str = "") -> int:
    """Add money to a period, spread evenly over its slots (created on the first top-up, as
    many as the rules say). Returns the period's available money afterwards."""
    require_operator(actor)
    if (
        isinstance(amount_fen, bool)
        or not isinstance(amount_fen, int)
        or not 0 < amount_fen <= 10**12
    ):
        raise InvalidInput(fields={"amount_fen": _("金额应为正整数（分）")})
    slots = list(BudgetSlot.objects.filter(period=period).order_by("slot"))
    if not slots:
        count = platform_rules().budget_slots
        BudgetSlot.objects.bulk_create(
            [BudgetSlot(period=period, slot=i) for i in range(count)], ignore_conflicts=True
        )
        slots = list(BudgetSlot.objects.filter(period=period).order_by("slot"))
    share, rest = divmod(amount_fen, len(slots))
    for i, slot in enumerate(slots):
        fen = share + (1 if i < rest else 0)
        if not fen:
            continue
        BudgetSlot.objects.filter(pk=slot.pk).update(available_fen=F("available_fen") + fen)
        _ledger(
            period_id=period.pk,
            slot=slot.slot,
            kind=LedgerEntry.Kind.TOP_UP,
            amount=fen,
            actor=actor,
            note=note,
        )
    audit.record(
        actor=actor,
        action="orders.budget_top_up",
        obj=period,
        amount_fen=amount_fen,
        note=note[:200],
    )
    return BudgetSlot.objects.filter(period=period).aggregate(s=Sum("available_fen"))["s"] or 0


# --- the supplier's packing view ------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryAddress:
    """Where a parcel goes: a home address in full, or the pick-up library."""

    district: str
    detail: str
    recipient: str
    phone: str
    pickup_library: Library | None


def reveal_delivery_address(*, actor: Actor, order: Order) -> DeliveryAddress:
    """The full delivery address for packing: the supplier of a line still to ship or on its
    way (or the operator), and only then; every reveal is audited (PIPL: unmasking is logged)."""
    if not may_reveal_address(actor, order):
        raise PermissionDenied(_("该订单当前没有需要您发货的图书，不能查看收货地址"))
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="order.address_viewed",
            obj=order,
            number=order.number,
            delivery_kind=order.delivery_kind,
        )
    if order.delivery_kind == DeliveryKind.PICKUP:
        return DeliveryAddress("", "", "", "", order.pickup_library)
    return DeliveryAddress(
        district=full_name(order.district_code) or order.district_code,
        detail=vault.unseal(order, "address_detail_ct"),
        recipient=vault.unseal(order, "address_recipient_ct"),
        phone=vault.unseal(order, "address_phone_ct"),
        pickup_library=None,
    )


# --- the wait-list -------------------------------------------------------------------------------
#
# A reader joins the wait-list of a title that has no stock. When copies come back (a supplier's
# stock update or import, a cancelled order giving its copy back: the catalog's stock listener),
# the readers are told in the order they joined, as many at a time as there are copies; each has
# ``waitlist_window_hours`` to order before their turn passes to the next (the periodic
# ``advance_wait_lists``). Ordering the title ends the entry (``_end_wait_for_orders``).

Waiting = WaitListEntry.Status


@transaction.atomic
def join_wait_list(*, actor: Actor, reader: Reader, title_id: int) -> WaitListEntry:
    """The reader asks to be told when the title is back in stock. Joining twice is one entry."""
    require_reader(actor, reader.pk, Action.ORDER_BOOKS, message=_("只能为本人登记"))
    title = Title.objects.filter(pk=title_id).first()
    if title is None or not title.is_active:
        raise TitleUnavailable(_("该书已下架"), title_id=title_id, reason="withdrawn")
    existing = WaitListEntry.objects.filter(
        reader=reader, title=title, status__in=[Waiting.WAITING, Waiting.NOTIFIED]
    ).first()
    if existing is not None:
        return existing
    if orderable_copies(title.pk) > 0:
        raise TitleInStock(title_id=title.pk)
    entry = WaitListEntry.objects.create(reader=reader, title=title)
    audit.record(actor=actor, action="waitlist.joined", obj=entry, title_id=title.pk)
    return entry


def leave_wait_list(*, actor: Actor, reader: Reader, title_id: int) -> bool:
    """The reader no longer waits; a turn they held passes to the next reader at once.
    Leaving a list one is not on changes nothing (False)."""
    require_reader(actor, reader.pk, Action.ORDER_BOOKS, message=_("只能为本人操作"))
    with transaction.atomic():
        entry = (
            WaitListEntry.objects.select_for_update()
            .filter(
                reader=reader, title_id=title_id, status__in=[Waiting.WAITING, Waiting.NOTIFIED]
            )
            .first()
        )
        if entry is None:
            return False
        had_turn = entry.status == Waiting.NOTIFIED
        entry.status = Waiting.WITHDRAWN
        entry.save(update_fields=["status", "updated_at"])
        audit.record(actor=actor, action="waitlist.left", obj=entry, title_id=title_id)
    if had_turn:
        advance_wait_list(title_id=title_id)
    return True


def wait_list_position(entry: WaitListEntry) -> int:
    """1 for the first reader still waiting (a reader whose turn came is 0)."""
    if entry.status != Waiting.WAITING:
        return 0
    return WaitListEntry.objects.filter(
        title_id=entry.title_id, status=Waiting.WAITING, id__lte=entry.pk
    ).count()


def advance_wait_list(*, title_id: int, now: dt.datetime | None = None) -> list[WaitListEntry]:
    """Move one title's wait-list on: turns whose window passed expire, and while there are
    more copies than open turns the next readers (in the order they joined) are told.
    Returns the entries told now."""
    now = now or clock.now()
    told: list[WaitListEntry] = []
    with transaction.atomic():
        # One lock order: the title's entries, oldest first.
        entries = list(
            WaitListEntry.objects.select_for_update()
            .filter(title_id=title_id, status__in=[Waiting.WAITING, Waiting.NOTIFIED])
            .select_related("title", "reader")
            .order_by("created_at", "id")
        )
        if not entries:
            return told
        for entry in entries:
            ends = entry.window_ends_at
            if entry.status == Waiting.NOTIFIED and ends is not None and ends <= now:
                entry.status = Waiting.EXPIRED
                entry.save(update_fields=["status", "updated_at"])
        open_turns = sum(1 for e in entries if e.status == Waiting.NOTIFIED)
        free = orderable_copies(title_id) - open_turns
        hours = platform_rules().waitlist_window_hours
        for entry in entries:
            if free <= 0:
                break
            if entry.status != Waiting.WAITING:
                continue
            entry.status = Waiting.NOTIFIED
            entry.notified_at = now
            entry.window_ends_at = now + dt.timedelta(hours=hours)
            entry.save(update_fields=["status", "notified_at", "window_ends_at", "updated_at"])
            with translation.override("zh-hans"):
                notify_reader(
                    reader=entry.reader,
                    kind="waitlist.turn",
                    subject=_("《%(title)s》有货了") % {"title": entry.title.title},
                    body=_("请在 %(until)s 前下单；逾时将轮到下一位等候的读者。")
                    % {"until": f"{clock.local(entry.window_ends_at):%Y-%m-%d %H:%M}"},
                    link=reverse("catalog:title", args=[title_id]),
                )
            told.append(entry)
            free -= 1
    return told


def wait_list_stock_returned(*, title_ids: Sequence[int]) -> None:
    """The catalog's stock listener: copies of ``title_ids`` came back."""
    waiting = set(
        WaitListEntry.objects.filter(title_id__in=title_ids, status=Waiting.WAITING).values_list(
            "title_id", flat=True
        )
    )
    for title_id in sorted(waiting):
        advance_wait_list(title_id=title_id)


def advance_wait_lists(*, now: dt.datetime | None = None) -> int:
    """The periodic job: every title with a turn whose window passed, or with readers waiting
    and copies in stock, moves on. Returns how many readers were told."""
    now = now or clock.now()
    expired = WaitListEntry.objects.filter(status=Waiting.NOTIFIED, window_ends_at__lte=now)
    titles = set(expired.values_list("title_id", flat=True))
    titles |= set(
        WaitListEntry.objects.filter(
            status=Waiting.WAITING,
            title_id__in=Offer.objects.filter(
                is_active=True, stock__gt=0, supplier__is_active=True
            ).values("title_id"),
        ).values_list("title_id", flat=True)
    )
    return sum(len(advance_wait_list(title_id=t, now=now)) for t in sorted(titles))
