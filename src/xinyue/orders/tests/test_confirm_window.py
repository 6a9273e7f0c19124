"""A reader who must confirm the credit order at the provider: the order waits with the
provider's page, then either goes on (confirmed there) or expires and releases everything."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from xinyue.catalog.models import Offer
from xinyue.core.actors import SYSTEM, Channel
from xinyue.credit.models import CreditOrder
from xinyue.orders import services
from xinyue.orders.models import BudgetSlot, Order, ReaderQuota
from xinyue.orders.tests.conftest import ADDRESS, placed
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def test_an_unconfirmed_order_expires_and_releases(reader, titles, budget):
    services.set_rules(actor=SYSTEM, credit_confirm_by_reader=True, confirm_minutes=15)
    order = placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[titles[0].pk],
        channel=Channel.PC,
        address=ADDRESS,
    )
    assert order.status == "placed"
    assert "gateway.do" in order.confirm_url
    assert CreditOrder.objects.get().state == "pending_confirm"
    assert Offer.objects.get(title=titles[0]).stock == 4
    # still inside the window: nothing moves
    assert services.expire_waiting_orders() == 1
    order.refresh_from_db()
    assert order.status == "placed"
    Order.objects.filter(pk=order.pk).update(
        confirm_expires_at=order.confirm_expires_at - dt.timedelta(minutes=16)
    )
    services.expire_waiting_orders()
    order.refresh_from_db()
    assert (order.status, order.status_reason) == ("cancelled", "confirm_expired")
    assert Offer.objects.get(title=titles[0]).stock == 5
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 0
    assert BudgetSlot.objects.aggregate(s=Sum("committed_fen"))["s"] == 0
    # The reader never opened the provider's page, so the provider has no order to cancel
    # (ORDER_NOT_EXIST); the credit record keeps its last known state and the refusal.
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op) == ("pending_confirm", "")
    assert "ORDER_NOT_EXIST" in credit.last_error
