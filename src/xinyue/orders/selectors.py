"""Reads of the orders app: the rules, a reader's orders, a supplier's queue, the budget."""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from xinyue.core import clock
from xinyue.core.actors import Actor, ActorKind
from xinyue.core.errors import PermissionDenied
from xinyue.core.microcache import MicroCache
from xinyue.core.permissions import Action, allowed, require, require_reader
from xinyue.orders.errors import OrderNotFound
from xinyue.orders.models import (
    BudgetPeriod,
    BudgetSlot,
    DeliveryKind,
    LedgerEntry,
    Order,
    OrderLine,
    PlatformRules,
    PostagePayer,
    ReaderQuota,
    WaitListEntry,
)


def order_lines_per_title_and_day(*, since: dt.datetime) -> QuerySet:
    """(title id, local day, order lines) since ``since``: readers' demand, for popularity."""
    return (
        OrderLine.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values_list("title_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )


_RULE_COLUMNS = tuple(
    f.attname
    for f in PlatformRules._meta.concrete_fields
    if f.attname not in ("created_at", "updated_at")
)
_RULES_SQL = f"SELECT {', '.join(_RULE_COLUMNS)} FROM orders_platformrules WHERE id = 1"


# The rules row as read, kept per process for ``XINYUE_ORDER_RULES_CACHE_SECONDS``: every order
# reads the rules, the operator changes them a few times a year. ``set_rules`` forgets it in its
# own process at once (and again when it commits); other processes follow within the time to live.
_RULES: MicroCache[PlatformRules | None] = MicroCache(
    ttl=lambda: settings.XINYUE_ORDER_RULES_CACHE_SECONDS, max_entries=1
)


def _read_rules() -> PlatformRules | None:
    with connection.cursor() as cursor:
        cursor.execute(_RULES_SQL)
        row = cursor.fetchone()
    return None if row is None else PlatformRules.from_db(connection.alias, _RULE_COLUMNS, row)


def platform_rules() -> PlatformRules:
    """The operator's rules (an unsaved row with the defaults until the operator saves them):
    a fresh instance each call, copied from the one kept in the micro-cache (SQL when it is
    read). Copied, not built again: every order reads the rules, and building a model instance
    from the row cost ~3 % of placing's CPU."""
    kept = _RULES.get_or_compute("rules", _read_rules)
    if kept is None:
        return PlatformRules(pk=1)
    return copy.copy(kept)  # Django copies the instance's state with it


def forget_platform_rules() -> None:
    """The rules changed (``services.set_rules``): the next read goes to the database."""
    _RULES.clear()


@dataclass(frozen=True)
class Postage:
    delivery_kind: str
    payer: str
    fen: int

    @property
    def payer_label(self) -> str:
        return str(PostagePayer(self.payer).label)


def postage_for(*, delivery_kind: str, rules: PlatformRules | None = None) -> Postage:
    """The postage rule shown before the reader confirms, and recorded on the order."""
    rules = rules or platform_rules()
    if delivery_kind == DeliveryKind.PICKUP:
        return Postage(delivery_kind, rules.pickup_postage_payer, rules.pickup_postage_fen)
    return Postage(DeliveryKind.HOME, rules.home_postage_payer, rules.home_postage_fen)


def current_budget_period() -> BudgetPeriod | None:
    today = clock.today()
    return BudgetPeriod.objects.filter(starts_on__lte=today, ends_on__gt=today).first()


def budget_summary(*, period: BudgetPeriod) -> dict[str, int]:
    """Remaining, committed and spent money of a period (the slots' running totals)."""
    totals = BudgetSlot.objects.filter(period=period).aggregate(
        available=Sum("available_fen"), committed=Sum("committed_fen"), spent=Sum("spent_fen")
    )
    topped = (
        LedgerEntry.objects.filter(period=period, kind=LedgerEntry.Kind.TOP_UP).aggregate(
            s=Sum("amount_fen")
        )["s"]
        or 0
    )
    return {
        "topped_up_fen": topped,
        "available_fen": totals["available"] or 0,
        "committed_fen": totals["committed"] or 0,
        "spent_fen": totals["spent"] or 0,
    }


def ledger_balances(*, period: BudgetPeriod) -> dict[str, int]:
    """The same three figures recomputed from the ledger alone (the audit check)."""
    sums = dict.fromkeys(LedgerEntry.Kind.values, 0)
    for row in (
        LedgerEntry.objects.filter(period=period).values("kind").annotate(total=Sum("amount_fen"))
    ):
        sums[row["kind"]] = row["total"]
    return {
        "topped_up_fen": sums["top_up"],
        "available_fen": sums["top_up"] - sums["commitment"] + sums["release"],
        "committed_fen": sums["commitment"] - sums["release"] - sums["spend"],
        "spent_fen": sums["spend"],
    }


def open_volumes(*, reader_id: int) -> int:
    row = ReaderQuota.objects.filter(reader_id=reader_id).values_list("open_volumes", flat=True)
    return row[0] if row else 0


def _with_lines(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.select_related("pickup_library").prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.select_related("title", "shipment")),
        "events",
    )


def orders_of_reader(*, reader_id: int) -> QuerySet[Order]:
    return _with_lines(Order.objects.filter(reader_id=reader_id))


def order_for(*, actor: Actor, number: str) -> Order:
    """One order as ``actor`` may see it: the reader's own, a supplier's with their lines, all
    for the operator. Unknown and not-yours look the same (404)."""
    order = _with_lines(Order.objects.filter(number=str(number)[:24])).first()
    if order is None or not may_see(actor, order):
        raise OrderNotFound(number=str(number)[:24])
    return order


def may_see(actor: Actor, order: Order) -> bool:
    """The reader (and the operator) by the permissions table; a supplier when the order has
    one of its lines."""
    if allowed(actor, Action.ORDER_BOOKS, reader_id=order.reader_id):
        return True
    return (
        actor.supplier_id is not None
        and allowed(actor, Action.WORK_FOR_SUPPLIER, supplier_id=actor.supplier_id)
        and order.lines.filter(supplier_id=actor.supplier_id).exists()
    )


def supplier_orders(*, actor: Actor, status: str | None = None) -> QuerySet[Order]:
    """Orders with lines of the actor's supplier (the operator sees every order)."""
    queryset = Order.objects.exclude(status=Order.Status.PLACED)
    if actor.kind is ActorKind.SUPPLIER and actor.supplier_id is not None:
        queryset = queryset.filter(lines__supplier_id=actor.supplier_id).distinct()
    elif not actor.is_operator:
        raise PermissionDenied(_("只有书商可以查看待发货订单"))
    if status:
        queryset = queryset.filter(status=status)
    return _with_lines(queryset).order_by("placed_at", "id")


def lines_for_supplier(actor: Actor, order: Order) -> list[OrderLine]:
    lines = list(order.lines.all())
    if actor.kind is ActorKind.SUPPLIER:
        return [line for line in lines if line.supplier_id == actor.supplier_id]
    return lines


def order_timeline(order: Order) -> list[dict[str, Any]]:
    """The reader's status timeline: one step per event that moved the order."""
    return [
        {"at": e.at, "status": e.to_state, "note": e.note} for e in order.events.all() if e.to_state
    ]


def live_orders_filter() -> Q:
    return Q(order__status__in=[Order.Status.PLACED, Order.Status.CONFIRMED, Order.Status.SHIPPED])


# --- the reader's pages -------------------------------------------------------------------------


@dataclass(frozen=True)
class OrderingLimits:
    """What a reader may still order now: the per-order maximum and the platform quota left."""

    max_per_order: int
    quota: int
    open_volumes: int

    @property
    def remaining(self) -> int:
        return max(0, self.quota - self.open_volumes)

    @property
    def can_take(self) -> int:
        """How many titles one order may hold for this reader right now."""
        return min(self.max_per_order, self.remaining)


def ordering_limits(*, reader_id: int | None) -> OrderingLimits:
    rules = platform_rules()
    held = open_volumes(reader_id=reader_id) if reader_id is not None else 0
    return OrderingLimits(rules.max_volumes_per_order, rules.platform_quota, held)


def postage_rules() -> dict[str, Postage]:
    """The postage rule of every delivery kind the reader may choose (pick-up only where the
    operator enabled it), shown beside each choice before the reader confirms."""
    rules = platform_rules()
    kinds = [DeliveryKind.HOME] + ([DeliveryKind.PICKUP] if rules.pickup_enabled else [])
    return {kind.value: postage_for(delivery_kind=kind, rules=rules) for kind in kinds}


def reason_text(reason: str) -> str:
    """A closing reason in the reader's words (supplier reasons are their own words)."""
    if reason == "reader":
        return _("您取消了订单")
    if reason == "confirm_expired":
        return _("未在时限内完成信用确认，订单已自动取消")
    if reason == "credit:unavailable":
        return _("信用服务机构长时间无法受理，订单已自动取消")
    if reason.startswith("credit:"):
        return _("信用服务机构未通过本次借阅")
    return reason


def credit_status(order: Order) -> str:
    """Where the order's credit order stands, as the API says it: ``opening`` (the task is
    opening it, or retrying a provider that is down), ``awaiting_confirmation`` (the reader
    confirms at ``confirm_url``), ``open``, ``refused`` (the order was cancelled for it), or
    ``closed`` (the order ended otherwise)."""
    if order.status == Order.Status.PLACED:
        return "awaiting_confirmation" if order.confirm_url else "opening"
    if order.status in (Order.Status.CONFIRMED, Order.Status.SHIPPED, Order.Status.DELIVERED):
        return "open"
    if order.status_reason.startswith("credit:"):
        return "refused"
    return "closed"


@dataclass(frozen=True)
class Step:
    """One step of the reader's status timeline; ``at`` None for a step still to come."""

    key: str
    label: str
    at: Any = None
    detail: str = ""
    titles: tuple[str, ...] = ()

    @property
    def done(self) -> bool:
        return self.at is not None


def reader_timeline(order: Order) -> list[Step]:
    """Placed → confirmed → shipped (one step per parcel, with carrier and tracking number) →
    delivered → receipt confirmed; a cancelled or rejected order ends with its reason, a line
    the supplier could not fill shows its own. Steps still to come have no time."""
    lines = list(order.lines.all())
    done = [Step("placed", _("已下单"), order.placed_at)]
    if order.confirmed_at:
        done.append(Step("confirmed", _("信用借阅已确认"), order.confirmed_at))
    parcels: dict[int, tuple[Any, list[str]]] = {}
    for line in lines:
        if line.shipment_id:
            parcels.setdefault(line.shipment_id, (line.shipment, []))[1].append(line.title.title)
    for shipment, titles in parcels.values():
        done.append(
            Step(
                "shipped",
                _("已发货"),
                shipment.shipped_at,
                _("%(carrier)s 运单号 %(number)s")
                % {"carrier": shipment.carrier, "number": shipment.tracking_number},
                tuple(titles),
            )
        )
    for line in lines:
        if line.status == OrderLine.Status.REJECTED:
            done.append(
                Step(
                    "line_rejected",
                    _("书商无法供货"),
                    line.updated_at,
                    reason_text(line.status_reason),
                    (line.title.title,),
                )
            )
    if order.delivered_at:
        done.append(Step("delivered", _("已送达"), order.delivered_at))
    if order.received_at:
        done.append(Step("received", _("已确认收货"), order.received_at))
    if order.status in (Order.Status.CANCELLED, Order.Status.REJECTED):
        label = _("已取消") if order.status == Order.Status.CANCELLED else _("已拒绝")
        done.append(Step(order.status, label, order.closed_at, reason_text(order.status_reason)))
    done.sort(key=lambda step: step.at)
    if order.status in (Order.Status.CANCELLED, Order.Status.REJECTED):
        return done
    keys = {step.key for step in done}
    upcoming = [
        Step(key, label)
        for key, label in (
            ("confirmed", _("信用借阅已确认")),
            ("shipped", _("已发货")),
            ("delivered", _("已送达")),
            ("received", _("已确认收货")),
        )
        if key not in keys
    ]
    return done + upcoming


def can_cancel(order: Order) -> bool:
    """Before anything shipped (the service decides; this only hides the button)."""
    return order.status in (Order.Status.PLACED, Order.Status.CONFIRMED) and not any(
        line.status in (OrderLine.Status.SHIPPED, OrderLine.Status.DELIVERED)
        for line in order.lines.all()
    )


def can_confirm_receipt(order: Order) -> bool:
    return order.status == Order.Status.SHIPPED or (
        order.status == Order.Status.DELIVERED and order.received_at is None
    )


# --- the supplier console -----------------------------------------------------------------------

SUPPLIER_VIEWS = ("fill", "transit", "done")


def supplier_queue(*, actor: Actor, view: str = "fill") -> QuerySet[Order]:
    """The supplier console's lists, oldest first: ``fill`` — confirmed orders with a line of the
    actor's supplier still to ship; ``transit`` — shipped lines not yet delivered; ``done`` —
    the last finished orders. The operator sees every supplier's lines."""
    require(actor, Action.WORK_FOR_SUPPLIER)
    own = Q() if actor.supplier_id is None else Q(lines__supplier_id=actor.supplier_id)
    if view == "transit":
        queryset = Order.objects.filter(
            own & Q(lines__status=OrderLine.Status.SHIPPED), status=Order.Status.SHIPPED
        )
    elif view == "done":
        queryset = Order.objects.filter(
            own,
            status__in=[Order.Status.DELIVERED, Order.Status.REJECTED, Order.Status.CANCELLED],
            confirmed_at__isnull=False,
        )
        return _with_lines(queryset.distinct()).order_by("-closed_at", "-delivered_at", "-id")
    else:
        queryset = Order.objects.filter(
            own & Q(lines__status=OrderLine.Status.PENDING),
            status__in=[Order.Status.CONFIRMED, Order.Status.SHIPPED],
        )
    return _with_lines(queryset.distinct()).order_by("placed_at", "id")


def supplier_order(*, actor: Actor, number: str) -> Order:
    """One order on the supplier console: only an order that reached the supplier (confirmed
    by the credit provider) and has a line of the actor's supplier; anything else is 404."""
    require(actor, Action.WORK_FOR_SUPPLIER)
    order = order_for(actor=actor, number=number)
    if order.status == Order.Status.PLACED or order.confirmed_at is None:
        raise OrderNotFound(number=order.number)
    if actor.supplier_id is not None and not any(
        line.supplier_id == actor.supplier_id for line in order.lines.all()
    ):
        raise OrderNotFound(number=order.number)
    return order


def barcodes_in_use(barcodes: Iterable[str]) -> set[str]:
    """Which of ``barcodes`` an order line already carries (a barcode names one copy)."""
    wanted = {b for b in barcodes if b}
    if not wanted:
        return set()
    return set(OrderLine.objects.filter(barcode__in=wanted).values_list("barcode", flat=True))


def may_reveal_address(actor: Actor, order: Order) -> bool:
    """Whether the full delivery address may be shown to ``actor``: only while the order has
    something of theirs to pack or on its way (shipping needs it; nothing else does)."""
    if not allowed(actor, Action.WORK_FOR_SUPPLIER):
        return False
    if order.status not in (Order.Status.CONFIRMED, Order.Status.SHIPPED):
        return False
    open_lines = [
        line
        for line in order.lines.all()
        if line.status in (OrderLine.Status.PENDING, OrderLine.Status.SHIPPED)
    ]
    if actor.supplier_id is None:
        return bool(open_lines) and actor.is_operator
    return any(line.supplier_id == actor.supplier_id for line in open_lines)


# --- the operator's budget pages ----------------------------------------------------------------


@dataclass(frozen=True)
class PeriodFigures:
    """A period's money as the budget page shows it: the slots' running totals, the ledger's
    sum per kind, and whether both agree to the fen."""

    period: BudgetPeriod
    topped_up_fen: int
    available_fen: int
    committed_fen: int
    spent_fen: int
    released_fen: int
    commitment_fen: int
    entries: int
    balanced: bool


def ledger_kind_totals(*, period: BudgetPeriod) -> dict[str, int]:
    """The sum of each kind of ledger entry of a period, in fen (0 for a kind with none)."""
    sums = dict.fromkeys(LedgerEntry.Kind.values, 0)
    for row in (
        LedgerEntry.objects.filter(period=period).values("kind").annotate(total=Sum("amount_fen"))
    ):
        sums[row["kind"]] = row["total"]
    return sums


def period_figures(*, period: BudgetPeriod) -> PeriodFigures:
    summary = budget_summary(period=period)
    kinds = ledger_kind_totals(period=period)
    return PeriodFigures(
        period=period,
        topped_up_fen=summary["topped_up_fen"],
        available_fen=summary["available_fen"],
        committed_fen=summary["committed_fen"],
        spent_fen=summary["spent_fen"],
        released_fen=kinds["release"],
        commitment_fen=kinds["commitment"],
        entries=LedgerEntry.objects.filter(period=period).count(),
        balanced=summary == ledger_balances(period=period),
    )


def budget_periods() -> list[PeriodFigures]:
    """Every budget period, newest first, with its figures."""
    return [period_figures(period=p) for p in BudgetPeriod.objects.order_by("-starts_on")]


def ledger_entries(*, period: BudgetPeriod) -> QuerySet[LedgerEntry]:
    """A period's ledger in the order it was written, with the order and line it concerns."""
    return (
        LedgerEntry.objects.filter(period=period)
        .select_related("order", "line__title")
        .order_by("at", "id")
    )


def reader_wait_list(*, actor: Actor, reader_id: int) -> list[WaitListEntry]:
    """The reader's open wait-list entries (waiting, or told and within their window)."""
    require_reader(actor, reader_id, Action.ORDER_BOOKS)
    return list(
        WaitListEntry.objects.filter(
            reader_id=reader_id,
            status__in=[WaitListEntry.Status.WAITING, WaitListEntry.Status.NOTIFIED],
        )
        .select_related("title")
        .order_by("created_at", "id")
    )
