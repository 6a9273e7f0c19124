"""Fixtures of the circulation tests: a platform loan made the real way (an admitted reader
orders, the supplier ships, the carrier delivers; the credit order lives in the in-process
sandbox gateway), staff of two libraries, a reader with a card at 杭州."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.cards.tests.factories import CardFactory
from xinyue.circulation.models import CirculationRule, Loan
from xinyue.circulation.services.overdue import run_daily
from xinyue.core.actors import SYSTEM, Channel
from xinyue.credit.models import CreditOrder
from xinyue.libraries.models import Library
from xinyue.orders import services as orders
from xinyue.orders.tests.conftest import ADDRESS, make_reader, make_title, open_budget, placed
from xinyue.readers.services.identity import reader_actor


@pytest.fixture(autouse=True)
def _credit_sandbox(settings, tmp_path_factory) -> None:
    settings.CREDIT_KEY_DIR = tmp_path_factory.getbasetemp() / "circulation_credit_keys"
    settings.CREDIT_SANDBOX_ENABLED = True
    settings.CREDIT_SANDBOX_IN_PROCESS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # in process: no socket is used


@pytest.fixture
def province(zhejiang) -> Library:
    Library.objects.filter(code="330000").update(is_operator=True)
    return Library.objects.get(code="330000")


def deliver(reader, titles, barcodes) -> list[Loan]:
    """Order ``titles`` for ``reader``, ship them with ``barcodes``, deliver: the platform loans."""
    from xinyue.suppliers.models import Supplier

    order = placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.ALIPAY,
        address=ADDRESS,
    )
    assert order.status == "confirmed", order.status
    lines = list(order.lines.order_by("id"))
    orders.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(line.pk, barcode) for line, barcode in zip(lines, barcodes, strict=True)],
        carrier="顺丰",
        tracking_number="SF1234567890",
    )
    orders.mark_delivered(actor=SYSTEM, order=order)
    assert Supplier.objects.exists()
    return list(Loan.objects.filter(order_line__order=order).order_by("id"))


@pytest.fixture
def platform_reader(province):
    open_budget()
    return make_reader(1)


@pytest.fixture
def platform_titles(platform_reader):
    from xinyue.suppliers.models import Supplier

    supplier = Supplier.objects.create(code="xinhua", name="浙江新华书店")
    return [make_title(i, supplier, price=3000 + i * 100) for i in range(1, 4)]


@pytest.fixture
def platform_loans(platform_reader, platform_titles) -> list[Loan]:
    """Two platform loans of one order (one credit order), barcodes XY-0000001 and XY-0000002."""
    return deliver(platform_reader, platform_titles[:2], ["XY-0000001", "XY-0000002"])


@pytest.fixture
def hz_reader(hangzhou):
    """A reader with an active deposit card at 杭州 (card number HZ000001)."""
    card = CardFactory(library=hangzhou, number="HZ000001")
    return card.reader


def work_outbox() -> list[tuple[str, str]]:
    """What a worker does with the credit outbox: send every pending row once, oldest first (the
    tasks queued after the commit; tests run inside one transaction, so nothing was queued).
    Returns (key, state) of the rows afterwards."""
    from xinyue.circulation.models import CreditRecord
    from xinyue.circulation.services.credit_sync import send_credit_record

    for pk in (
        CreditRecord.objects.filter(state="pending").order_by("id").values_list("pk", flat=True)
    ):
        send_credit_record(record_id=pk)
    return list(CreditRecord.objects.order_by("id").values_list("key", "state"))


@pytest.fixture
def platform_rule(province) -> CirculationRule:
    """Province rule for platform loans: remind 3 days before, lost 30 days after the due date,
    compensation 1.5 × list price + 5 元."""
    return CirculationRule.objects.create(
        program="platform",
        loan_days=30,
        renewals=1,
        renewal_grace_days=2,
        max_open_loans=5,
        compensation_factor_permille=1500,
        compensation_fee_fen=500,
        remind_days_before=3,
        lost_after_days=30,
    )


@pytest.fixture
def capped(platform_rule, platform_reader):
    """A one-book order (list price 30.00 元, so a deposit of 30.00 元) and a second order's book
    due 40 days later: the first is declared lost, compensation 30 × 1.5 + 5 = 50.00 元."""
    from xinyue.suppliers.models import Supplier

    supplier = Supplier.objects.create(code="xinhua", name="浙江新华书店")
    (lost,) = deliver(platform_reader, [make_title(11, supplier, price=3000)], ["XY-0000011"])
    (kept,) = deliver(platform_reader, [make_title(12, supplier, price=2500)], ["XY-0000012"])
    Loan.objects.filter(pk=kept.pk).update(due_on=lost.due_on + dt.timedelta(days=40))
    assert CreditOrder.objects.get(reference=lost.credit_reference).deposit_fen == 3000
    assert run_daily(today=lost.due_on + dt.timedelta(days=30))["lost"] == 1
    return Loan.objects.get(pk=lost.pk), Loan.objects.get(pk=kept.pk)
