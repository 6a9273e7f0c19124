"""Placing orders through the service: what it takes and records, and every refusal leaving the
database exactly as it was."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import Sum

from xinyue.catalog.models import Offer, Title
from xinyue.circulation.models import Item, Loan
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.errors import InvalidInput
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.orders import services
from xinyue.orders.errors import (
    BudgetExhausted,
    DuplicateTitle,
    NoActiveService,
    NotAdmitted,
    QuotaExceeded,
    TitleUnavailable,
    TooManyVolumes,
)
from xinyue.orders.models import BudgetSlot, LedgerEntry, Order, OrderEvent, OrderLine, ReaderQuota
from xinyue.orders.selectors import budget_summary, ledger_balances
from xinyue.orders.tests.conftest import ADDRESS, make_reader, open_budget, placed
from xinyue.readers import vault
from xinyue.readers.services.consents import withdraw_consent
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "events": OrderEvent.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "stock": Offer.objects.aggregate(s=Sum("stock"))["s"],
        "available": BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"],
        "committed": BudgetSlot.objects.aggregate(s=Sum("committed_fen"))["s"],
        "quota": list(ReaderQuota.objects.values_list("reader_id", "open_volumes")),
        "credit": CreditOrder.objects.count(),
        "audit": AuditEntry.objects.filter(action__startswith="order").count(),
    }


def place(reader, titles, **extra):
    return placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=extra.pop("channel", Channel.ALIPAY),
        address=extra.pop("address", ADDRESS),
        **extra,
    )


def test_an_order_takes_stock_quota_and_budget_and_opens_the_credit_order(reader, titles, budget):
    order = place(reader, titles[:3], idempotency_key="k1")
    assert order.status == "confirmed"
    assert re.fullmatch(r"XY\d{14}", order.number)
    assert order.channel == "alipay"
    assert (order.postage_payer, order.postage_fen) == ("platform", 0)
    assert order.list_price_total_fen == 3100 + 3200 + 3300
    assert vault.unseal(order, "address_detail_ct") == ADDRESS["detail"]
    assert order.address_detail_ct != ADDRESS["detail"]
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [
        4,
        4,
        4,
        5,
        5,
    ]
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 3
    assert budget_summary(period=budget) == {
        "topped_up_fen": 1_000_000,
        "available_fen": 1_000_000 - 9600,
        "committed_fen": 9600,
        "spent_fen": 0,
    }
    assert ledger_balances(period=budget) == budget_summary(period=budget)
    credit = CreditOrder.objects.get()
    assert (credit.reference, credit.deposit_fen, credit.state) == (
        f"order:{order.number}",
        9600,
        "borrowed",
    )
    assert list(order.events.values_list("to_state", flat=True)) == ["placed", "confirmed"]
    # the same idempotency key: the same order, nothing taken twice
    again = place(reader, titles[:3], idempotency_key="k1")
    assert again.pk == order.pk
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 3
    assert CreditOrder.objects.count() == 1


def test_full_cycle_ships_delivers_and_the_ledger_balances_to_the_fen(
    reader, titles, budget, supplier, operator
):
    from xinyue.libraries.models import Library

    Library.objects.filter(code="330000").update(is_operator=True)
    order = place(reader, titles[:3])
    lines = list(order.lines.order_by("id"))
    services.reject_line(actor=SYSTEM, order=order, line_id=lines[2].pk, reason="缺货")
    shipment = services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(lines[0].pk, "XY-0000001")],
        carrier="顺丰",
        tracking_number="SF1234567890",
    )
    order.refresh_from_db()
    assert order.status == "shipped"
    services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(lines[1].pk, "XY-0000002")],
        carrier="顺丰",
        tracking_number="SF1234567891",
    )
    assert shipment.lines.count() == 1
    item = Item.objects.get(barcode="XY-0000001")
    assert (item.owning_library.code, item.supplier_id, item.list_price_fen, item.status) == (
        "330000",
        supplier.pk,
        3100,
        "in_transit",
    )
    order = services.mark_delivered(actor=operator, order=order)
    assert order.status == "delivered"
    loans = list(Loan.objects.order_by("id"))
    assert [(loan.program, loan.status, loan.item.barcode) for loan in loans] == [
        ("platform", "on_loan", "XY-0000001"),
        ("platform", "on_loan", "XY-0000002"),
    ]
    assert loans[0].due_on - loans[0].started_at.date() <= dt.timedelta(days=31)
    assert loans[0].credit_reference == f"order:{order.number}"
    order = services.confirm_receipt(actor=reader_actor(reader), order=order)
    assert order.received_at is not None
    summary = budget_summary(period=budget)
    assert summary == {
        "topped_up_fen": 1_000_000,
        "available_fen": 1_000_000 - 3100 - 3200,
        "committed_fen": 0,
        "spent_fen": 3100 + 3200,
    }
    assert ledger_balances(period=budget) == summary
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 2  # two on loan
    # the rejected line's copy went back to stock
    assert Offer.objects.get(title=titles[2]).stock == 5


def test_cancel_before_shipping_releases_everything_and_cancels_the_credit_order(
    reader, titles, budget
):
    before = snapshot()
    order = place(reader, titles[:2])
    order = services.cancel_order(actor=reader_actor(reader), order=order)
    assert order.status == "cancelled"
    after = snapshot()
    for key in ("stock", "available", "committed"):
        assert after[key] == before[key], key
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 0
    assert CreditOrder.objects.get().state == "cancelled"
    assert ledger_balances(period=budget) == budget_summary(period=budget)


@pytest.mark.parametrize(
    ("case", "error", "fields"),
    [
        ("outside_province", InvalidInput, {"address.district_code": "只能配送到浙江省内的地址"}),
        ("short_detail", InvalidInput, {"address.detail": "详细地址应为4至200个字"}),
        ("blank_detail", InvalidInput, {"address.detail": "请填写详细地址"}),
        ("too_many", TooManyVolumes, None),
        ("withdrawn_title", TitleUnavailable, None),
        ("out_of_stock", TitleUnavailable, None),
        ("quota", QuotaExceeded, None),
        ("budget", BudgetExhausted, None),
        ("not_admitted", NotAdmitted, None),
        ("duplicate", DuplicateTitle, None),
    ],
)
def test_every_refusal_changes_nothing(reader, titles, budget, case, error, fields):
    services.set_rules(actor=SYSTEM, max_volumes_per_order=3, platform_quota=4)
    chosen = titles[:1]
    address = ADDRESS
    if case == "duplicate":
        place(reader, titles[:1])
    if case == "quota":
        place(reader, titles[1:4])
        chosen = titles[4:5] + titles[:1]
    before = snapshot()
    if case == "outside_province":
        address = {**ADDRESS, "district_code": "310104"}
    elif case == "short_detail":
        address = {**ADDRESS, "detail": "  文三路 "}  # three characters once trimmed
    elif case == "blank_detail":
        address = {**ADDRESS, "detail": "  "}
    elif case == "too_many":
        chosen = titles[:4]
    elif case == "withdrawn_title":
        Title.objects.filter(pk=titles[0].pk).update(is_active=False)
    elif case == "out_of_stock":
        Offer.objects.filter(title=titles[0]).update(stock=0)
        before = snapshot()
    elif case == "budget":
        BudgetSlot.objects.update(available_fen=100)
        before = snapshot()
    elif case == "not_admitted":
        withdraw_consent(actor=reader_actor(reader), reader=reader, purpose="credit_check")
        before = snapshot()
    with pytest.raises(error) as caught:
        place(reader, chosen, address=address)
    if fields:
        assert caught.value.detail["fields"] == fields
    if case == "quota":
        assert caught.value.detail == {"quota": 4, "open_volumes": 3, "remaining": 1}
        assert "还可以再借 1 册" in caught.value.message
    if case == "duplicate":
        assert caught.value.detail["reason"] == "recently_ordered"
    assert snapshot() == before


def test_a_reader_without_card_or_activated_service_is_refused(zhejiang, titles, budget):
    reader = make_reader(7, card=False)
    before = snapshot()
    with pytest.raises(NoActiveService):
        place(reader, titles[:1])
    assert snapshot() == before


def test_a_reader_under_the_threshold_is_refused(zhejiang, titles, budget):
    reader = make_reader(8, score=500, card=False)
    before = snapshot()
    with pytest.raises(NotAdmitted) as caught:
        place(reader, titles[:1])
    assert caught.value.detail == {"reason": "refused"}
    assert snapshot() == before


def test_an_order_larger_than_any_slot_takes_from_several(reader, titles, zhejiang):
    period = open_budget(amount_fen=8000, slots=4)  # 2000 fen per slot
    order = place(reader, titles[:2])  # 3100 + 3200 = 6300
    assert order.status == "confirmed"
    commitments = list(
        LedgerEntry.objects.filter(kind="commitment").values_list("slot", "amount_fen")
    )
    assert sum(fen for _slot, fen in commitments) == 6300
    assert len(commitments) >= 3
    assert budget_summary(period=period)["available_fen"] == 1700
    services.cancel_order(actor=reader_actor(reader), order=order)
    assert (
        list(BudgetSlot.objects.order_by("slot").values_list("available_fen", flat=True))
        == [2000] * 4
    )


def _prepared(reader, titles, **extra):
    return services._prepare(
        actor=reader_actor(reader).via(Channel.ALIPAY),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.ALIPAY,
        delivery_kind="home",
        address=ADDRESS,
        address_uid=None,
        pickup_library=None,
        idempotency_key=extra.get("idempotency_key", ""),
    )


def test_one_group_commit_batch_writes_its_orders_together_and_checks_its_own_pending_orders(
    zhejiang, titles, budget
):
    """Orders of one batch are written after all of them took their limits: a second order of
    the same title for the same reader in the batch is a duplicate, the same idempotency key twice
    is one order, and a refusal leaves the others placed."""
    first, second = make_reader(1), make_reader(2)
    services.set_rules(actor=SYSTEM, duplicate_window_days=30)
    waiting = [
        services._Waiting(_prepared(first, titles[:1])),
        services._Waiting(_prepared(first, titles[:1])),  # same title, same reader
        services._Waiting(_prepared(second, titles[1:3], idempotency_key="tap")),
        services._Waiting(_prepared(second, titles[1:3], idempotency_key="tap")),
        services._Waiting(_prepared(second, titles[3:4], idempotency_key="tap")),  # other titles
    ]
    services._apply_batch(waiting)
    assert all(w.done for w in waiting)
    placed_first, created = waiting[0].outcome()
    assert created
    with pytest.raises(DuplicateTitle) as refused:
        waiting[1].outcome()
    assert refused.value.detail["reason"] == "recently_ordered"
    tapped, created = waiting[2].outcome()
    again, created_again = waiting[3].outcome()
    assert (created, created_again, again.pk) == (True, False, tapped.pk)
    with pytest.raises(services.IdempotencyMismatch):
        waiting[4].outcome()
    assert Order.objects.count() == 2
    assert {o.number for o in Order.objects.all()} == {placed_first.number, tapped.number}
    assert re.fullmatch(r"XY\d{14}", tapped.number)
    assert list(OrderLine.objects.filter(order=tapped).values_list("title_id", flat=True)) == [
        titles[1].pk,
        titles[2].pk,
    ]
    assert dict(ReaderQuota.objects.values_list("reader_id", "open_volumes")) == {
        first.pk: 1,
        second.pk: 2,
    }
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [
        4,
        4,
        4,
        5,
        5,
    ]
    assert LedgerEntry.objects.filter(kind="commitment").aggregate(s=Sum("amount_fen"))["s"] == (
        3100 + 3200 + 3300
    )
    assert OrderEvent.objects.filter(to_state="placed").count() == 2
    assert sorted(
        AuditEntry.objects.filter(action="order.placed").values_list("detail__number", flat=True)
    ) == sorted([placed_first.number, tapped.number])


def _statements(captured, prefix: str) -> int:
    return sum(1 for q in captured.captured_queries if q["sql"].lstrip().startswith(prefix))


def test_a_batch_refuses_a_limit_it_found_short_before_taking_anything(zhejiang, titles):
    """Once a batch's transaction has found the budget unable to cover an amount, a later order
    of the batch needing as much is refused before it touches the reader's quota or the stock;
    a smaller one still tries. The refusals change nothing; the placed order is whole."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    open_budget(amount_fen=4000, slots=1)
    readers = [make_reader(n) for n in range(1, 5)]
    ReaderQuota.objects.bulk_create([ReaderQuota(reader=r) for r in readers])  # not their first
    waiting = [
        services._Waiting(_prepared(readers[0], titles[0:1])),  # 3100: placed, 900 fen left
        services._Waiting(_prepared(readers[1], titles[1:2])),  # 3200: the budget is short
        services._Waiting(_prepared(readers[2], titles[2:3])),  # 3300 ≥ 3200: refused at once
        services._Waiting(_prepared(readers[3], titles[0:1])),  # 3100 < 3200: tries, refused
    ]
    with CaptureQueriesContext(connection) as captured:
        services._apply_batch(waiting)
    first, created = waiting[0].outcome()
    assert created
    assert first.list_price_total_fen == 3100
    for w, amount in zip(waiting[1:], (3200, 3300, 3100), strict=True):
        with pytest.raises(BudgetExhausted) as refused:
            w.outcome()
        assert refused.value.detail == {"amount_fen": amount}
    # Readers 1, 2 and 4 tried their quota and a copy; reader 3 neither.
    assert _statements(captured, "UPDATE orders_readerquota") == 3
    assert _statements(captured, "UPDATE catalog_offer") == 3
    assert dict(ReaderQuota.objects.values_list("reader_id", "open_volumes")) == {
        readers[0].pk: 1,
        readers[1].pk: 0,
        readers[2].pk: 0,
        readers[3].pk: 0,
    }
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [
        4,
        5,
        5,
        5,
        5,
    ]
    assert list(BudgetSlot.objects.values_list("available_fen", "committed_fen")) == [(900, 3100)]
    assert Order.objects.count() == 1


def test_a_batch_refuses_a_title_it_found_sold_out_before_taking_anything(zhejiang, titles, budget):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    Offer.objects.filter(title=titles[0]).update(stock=1)
    readers = [make_reader(n) for n in range(1, 4)]
    ReaderQuota.objects.bulk_create([ReaderQuota(reader=r) for r in readers])  # not their first
    waiting = [
        services._Waiting(_prepared(readers[0], titles[0:1])),  # the last copy
        services._Waiting(_prepared(readers[1], titles[0:2])),  # finds it sold out
        services._Waiting(_prepared(readers[2], titles[1:2] + titles[0:1])),  # refused at once
    ]
    with CaptureQueriesContext(connection) as captured:
        services._apply_batch(waiting)
    assert waiting[0].outcome()[1]
    for w in waiting[1:]:
        with pytest.raises(TitleUnavailable) as refused:
            w.outcome()
        assert refused.value.detail == {"title_id": titles[0].pk, "reason": "out_of_stock"}
    assert _statements(captured, "UPDATE orders_readerquota") == 2
    assert dict(ReaderQuota.objects.values_list("reader_id", "open_volumes")) == {
        readers[0].pk: 1,
        readers[1].pk: 0,
        readers[2].pk: 0,
    }
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [
        0,
        5,
        5,
        5,
        5,
    ]
    assert OrderLine.objects.count() == 1
    assert LedgerEntry.objects.filter(kind="commitment").aggregate(s=Sum("amount_fen"))["s"] == 3100


def test_what_the_batch_read_refuses_never_takes_the_writer(zhejiang, titles, budget):
    """An order that the limits as read before the writing transaction already refuse — quota
    full, no copy, not enough money — is refused with the writing transaction's own answer
    without opening it (no BEGIN, no conditional statement); a keyed order still goes in."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    services.set_rules(actor=SYSTEM, platform_quota=2)
    full, other, keyed = make_reader(1), make_reader(2), make_reader(3)
    ReaderQuota.objects.bulk_create(
        [ReaderQuota(reader=full, open_volumes=2), ReaderQuota(reader=keyed, open_volumes=2)]
    )
    Offer.objects.filter(title=titles[1]).update(stock=0)
    before = snapshot()
    waiting = [
        services._Waiting(_prepared(full, titles[0:1])),
        services._Waiting(_prepared(other, titles[1:2])),
    ]
    with CaptureQueriesContext(connection) as captured:
        services._apply_batch(waiting)
    with pytest.raises(QuotaExceeded) as quota:
        waiting[0].outcome()
    assert quota.value.detail == {"quota": 2, "open_volumes": 2, "remaining": 0}
    with pytest.raises(TitleUnavailable) as sold_out:
        waiting[1].outcome()
    assert sold_out.value.detail == {"title_id": titles[1].pk, "reason": "out_of_stock"}
    assert _statements(captured, "SAVEPOINT") == 0  # no writing transaction was opened
    assert _statements(captured, "UPDATE") == 0
    assert snapshot() == before

    BudgetSlot.objects.update(available_fen=0)
    BudgetSlot.objects.filter(slot=0).update(available_fen=3000)  # less than any title's price
    before = snapshot()
    with CaptureQueriesContext(connection) as captured, pytest.raises(BudgetExhausted) as short:
        place(other, titles[0:1])
    assert short.value.detail == {"amount_fen": 3100}
    assert _statements(captured, "UPDATE") == 0
    # A keyed order is decided in the writing transaction (a retry's first order is found there).
    with CaptureQueriesContext(connection) as captured, pytest.raises(QuotaExceeded):
        place(keyed, titles[0:1], idempotency_key="k1")
    assert _statements(captured, "UPDATE orders_readerquota") == 1
    assert snapshot() == before
