"""``xinyue seed-demo`` with the sandbox on: orders in every state, a wait-list, the messages
they sent; a second run adds nothing."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from xinyue.circulation.models import Loan
from xinyue.orders.demo import DEMO_ORDERS
from xinyue.orders.models import Order, OrderEvent, WaitListEntry
from xinyue.orders.selectors import budget_summary, current_budget_period, ledger_balances
from xinyue.readers.models import Message

pytestmark = pytest.mark.django_db


def state() -> dict:
    return {
        "orders": sorted(
            (o.idempotency_key, o.status, o.received_at is None) for o in Order.objects.all()
        ),
        "lines": sorted(Order.objects.values_list("idempotency_key", "lines__status").order_by()),
        "events": OrderEvent.objects.count(),
        "messages": Message.objects.count(),
        "wait_list": sorted(WaitListEntry.objects.values_list("reader_id", "status")),
        "loans": Loan.objects.count(),
    }


def test_seed_demo_places_orders_in_every_state_once(zhejiang, categories):
    out = io.StringIO()
    call_command("seed-demo", "--titles", "0", stdout=out)
    first = state()
    assert first["orders"] == sorted(
        [
            ("demo-awaiting", "placed", True),
            ("demo-confirmed", "confirmed", True),
            ("demo-partly-shipped", "shipped", True),
            ("demo-cancelled", "cancelled", True),
            ("demo-expired", "cancelled", True),
            ("demo-shipped", "shipped", True),
            ("demo-delivered", "delivered", True),
            ("demo-received", "delivered", False),
            ("demo-line-rejected", "delivered", True),
        ]
    )
    assert len(first["orders"]) == len(DEMO_ORDERS)
    lines = first["lines"]
    assert ("demo-partly-shipped", "shipped") in lines
    assert (
        "demo-partly-shipped",
        "pending",
    ) in lines
    assert ("demo-line-rejected", "rejected") in lines
    assert first["loans"] == 3  # delivered, received, and the rejected order's other line
    assert [s for _r, s in first["wait_list"]] == ["waiting", "waiting"]
    kinds = set(Message.objects.values_list("kind", flat=True))
    assert {
        "order.placed",
        "order.awaiting_confirmation",
        "order.confirmed",
        "order.partially_shipped",
        "order.shipped",
        "order.line_rejected",
        "order.delivered",
        "order.received",
        "order.cancelled",
        "order.expired",
    } <= kinds
    period = current_budget_period()
    assert ledger_balances(period=period) == budget_summary(period=period)

    call_command("seed-demo", "--titles", "0", stdout=out)
    assert state() == first
