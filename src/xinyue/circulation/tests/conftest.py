"""Fixtures of the circulation tests: a platform loan made the real way (an admitted reader
orders, the supplier ships, the carrier delivers; the credit order lives in the in-process
sandbox gateway), staff of two libraries, a reader with a card at 杭州."""

from __future__ import annotations

import pytest

from xinyue.cards.tests.factories import CardFactory
from xinyue.circulation.models import Loan
from xinyue.core.actors import SYSTEM, Channel
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
