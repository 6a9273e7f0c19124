"""Concurrent ordering on scarce stock, a tight quota and a tight budget: real threads, each on its
own database connection. Run in-process on PostgreSQL, or as its own platform instance on an
SQLite file: ``python -m xinyue.orders.tests.order_race --migrate`` prints JSON (both scenarios: the race for
scarce stock, quota and budget, then one order submitted many times at once with one
idempotency key)."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection

READERS = 12
TITLES = 3
STOCK = 4
PRICE = 3000
BUDGET = 10 * PRICE  # ten volumes for 24 attempts of two volumes each
QUOTA = 2


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # reported by the scenario
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def oversold(initial_stock: dict[int, int]) -> dict[str, int]:
    """Overselling measured from the rows themselves (not from the counters being checked)."""
    from django.db.models import Count, Sum

    from xinyue.catalog.models import Offer
    from xinyue.orders.models import BudgetSlot, LedgerEntry, OrderLine, PlatformRules
    from xinyue.orders.selectors import ledger_balances

    holding = ["pending", "shipped", "delivered"]
    stock = 0
    for offer in Offer.objects.filter(pk__in=initial_stock):
        taken = OrderLine.objects.filter(offer=offer, status__in=holding).count()
        stock += max(0, taken - initial_stock[offer.pk]) + max(0, -offer.stock)
    quota_limit = PlatformRules.objects.get(pk=1).platform_quota
    per_reader = (
        OrderLine.objects.filter(status__in=holding)
        .values("order__reader_id")
        .annotate(n=Count("id"))
    )
    quota = sum(max(0, row["n"] - quota_limit) for row in per_reader)
    topped = LedgerEntry.objects.filter(kind="top_up").aggregate(s=Sum("amount_fen"))["s"] or 0
    held = OrderLine.objects.filter(status__in=holding).aggregate(s=Sum("list_price_fen"))["s"] or 0
    budget = max(0, held - topped)
    from xinyue.orders.models import BudgetPeriod

    ledger_ok = all(
        ledger_balances(period=p)["available_fen"]
        == (BudgetSlot.objects.filter(period=p).aggregate(s=Sum("available_fen"))["s"] or 0)
        for p in BudgetPeriod.objects.all()
    )
    return {"stock": stock, "quota": quota, "budget": budget, "ledger_ok": int(ledger_ok)}


def scenario() -> dict[str, Any]:
    from xinyue.catalog.models import Offer
    from xinyue.core.actors import SYSTEM, Channel
    from xinyue.core.errors import DomainError
    from xinyue.libraries.models import Library
    from xinyue.libraries.services import load_library_file
    from xinyue.orders import demo, services
    from xinyue.orders.models import OrderLine
    from xinyue.readers.services.identity import reader_actor

    if not Library.objects.exists():
        load_library_file(actor=SYSTEM)
    titles = demo.scarce_titles(count=TITLES, stock=STOCK, price_fen=PRICE)
    demo.budget_period(amount_fen=BUDGET, slots=4)
    services.set_rules(actor=SYSTEM, platform_quota=QUOTA, max_volumes_per_order=3)
    readers = [demo.admitted_reader(200 + n) for n in range(READERS)]
    pairs = [(0, 1), (1, 2), (0, 2)]

    def attempt(reader: Any, k: int) -> Callable[[], Any]:
        ids = [titles[i].pk for i in pairs[k % len(pairs)]]
        return lambda: services.place_order(
            actor=reader_actor(reader),
            reader=reader,
            title_ids=ids,
            channel=Channel.WECHAT,
            address=demo.ADDRESS,
            open_credit=False,
        )

    jobs = [attempt(r, i + j) for i, r in enumerate(readers) for j in range(2)]
    results = run_together(jobs)
    placed = [r for r in results if not isinstance(r, Exception)]
    refused = sorted({r.code for r in results if isinstance(r, DomainError)})
    errors = [
        repr(r) for r in results if isinstance(r, Exception) and not isinstance(r, DomainError)
    ]
    lines = OrderLine.objects.filter(status="pending").count()
    return {
        "placed_some": bool(placed),
        "errors": errors,
        "refusals_known": set(refused)
        <= {
            "quota_exceeded",
            "title_unavailable",
            "budget_exhausted",
            "duplicate_title",
        },
        "stock_moved_by_lines": sum(STOCK - o.stock for o in Offer.objects.all()) == lines,
        "oversold": oversold({o.pk: STOCK for o in Offer.objects.all()}),
    }


def idempotency_scenario(submissions: int = 8) -> dict[str, Any]:
    """One reader submits the same order ``submissions`` times at once with one
    ``Idempotency-Key`` (a double-tapped button, a client retrying): one order, and the quota,
    stock and budget move once."""
    from django.db.models import Sum

    from xinyue.catalog.models import Offer
    from xinyue.core.actors import SYSTEM, Channel
    from xinyue.orders import demo, services
    from xinyue.orders.models import BudgetSlot, LedgerEntry, Order, ReaderQuota
    from xinyue.orders.selectors import current_budget_period
    from xinyue.readers.services.identity import reader_actor

    titles = demo.scarce_titles(count=2, stock=STOCK, price_fen=PRICE, supplier_code="idem")
    services.top_up_budget(actor=SYSTEM, period=current_budget_period(), amount_fen=10 * PRICE)
    reader = demo.admitted_reader(400)
    available = BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"]
    ids = [t.pk for t in titles]

    def submit() -> Any:
        return services.place_order(
            actor=reader_actor(reader),
            reader=reader,
            title_ids=ids,
            channel=Channel.WECHAT,
            address=demo.ADDRESS,
            idempotency_key="tap-tap-tap",
            open_credit=False,
        )

    results = run_together([submit] * submissions)
    numbers = sorted({r.number for r in results if not isinstance(r, Exception)})
    orders = Order.objects.filter(reader=reader)
    return {
        "answers": len(results),
        "errors": [repr(r) for r in results if isinstance(r, Exception)],
        "numbers": len(numbers),
        "orders": orders.count(),
        "same_order": numbers == list(orders.values_list("number", flat=True)),
        "quota": ReaderQuota.objects.get(reader=reader).open_volumes,
        "stock_taken": sum(STOCK - o.stock for o in Offer.objects.filter(title__in=titles)),
        "budget_taken": available - BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"],
        "commitments": LedgerEntry.objects.filter(order__reader=reader).count(),
    }


EXPECTED_IDEMPOTENCY = {
    "answers": 8,
    "errors": [],
    "numbers": 1,
    "orders": 1,
    "same_order": True,
    "quota": 2,
    "stock_taken": 2,
    "budget_taken": 2 * PRICE,
    "commitments": 1,
}


EXPECTED = {
    "placed_some": True,
    "errors": [],
    "refusals_known": True,
    "stock_moved_by_lines": True,
    "oversold": {"stock": 0, "quota": 0, "budget": 0, "ledger_ok": 1},
}


def main() -> None:
    import django

    django.setup()
    if "--migrate" in sys.argv:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    result = {"race": scenario(), "idempotency": idempotency_scenario()}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
