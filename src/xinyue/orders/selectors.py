"""Reads of the orders app: the rules, a reader's orders, a supplier's queue, the budget."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, Q, QuerySet, Sum
from django.utils.translation import gettext as _

from xinyue.core import clock
from xinyue.core.actors import Actor, ActorKind
from xinyue.core.errors import PermissionDenied
from xinyue.core.permissions import Action, allowed, require_reader
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


def platform_rules() -> PlatformRules:
    """The operator's rules (an unsaved row with the defaults until the operator saves them)."""
    return PlatformRules.objects.filter(pk=1).first() or PlatformRules(pk=1)


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
