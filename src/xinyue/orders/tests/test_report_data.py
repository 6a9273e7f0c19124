"""What the monthly report (DESIGN §8) counts about orders is in the rows, exactly: orders placed
by channel, completed orders, volumes borrowed and their list prices (码洋), hot categories —
over a period [start, end) in Asia/Shanghai. Counted here from the rows themselves, as insights
will, against the numbers the test itself made."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from django.db.models import Count, Sum

from xinyue.catalog.models import Category, Offer, Title
from xinyue.circulation.models import Loan
from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Channel
from xinyue.orders import services
from xinyue.orders.models import Order, OrderEvent, OrderLine
from xinyue.orders.tests.conftest import ADDRESS, make_reader, placed
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def period() -> tuple[dt.datetime, dt.datetime]:
    """This month in Asia/Shanghai, as the report's default period."""
    today = clock.today()
    return clock.month_bounds(today.year, today.month)


def place(reader, titles, channel):
    return placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=channel,
        address=ADDRESS,
    )


def deliver(order, barcodes):
    lines = list(order.lines.filter(status="pending").order_by("id"))
    services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=list(zip([line.pk for line in lines], barcodes, strict=True)),
        carrier="顺丰",
        tracking_number=f"SF{order.pk:010d}",
    )
    services.mark_delivered(actor=SYSTEM, order=order)


def test_orders_channels_completions_volumes_prices_and_categories_count_exactly(
    reader, titles, supplier, budget
):
    history, _ = Category.objects.get_or_create(name="历史")
    old = Title.objects.create(
        isbn13="9787300099999", title="万历十五年", list_price_fen=3600, category=history
    )
    Offer.objects.create(supplier=supplier, title=old, stock=5, price_fen=3600)
    other = make_reader(2)
    # titles[i] costs 3100 + 100 i fen, category 文学
    a = place(reader, [titles[0], titles[1], old], Channel.ALIPAY)  # delivered, one line rejected
    b = place(other, [titles[2]], Channel.WECHAT)  # delivered
    c = place(other, [titles[3], old], Channel.PC)  # cancelled
    d = place(reader, [titles[4]], Channel.WECHAT)  # shipped, not delivered
    last_month = place(other, [titles[0]], Channel.ALIPAY)  # placed before the period
    services.reject_line(
        actor=SYSTEM, order=a, line_id=a.lines.get(title=old).pk, reason="出版社断货"
    )
    deliver(a, ["XY-A1", "XY-A2"])
    deliver(b, ["XY-B1"])
    services.cancel_order(actor=reader_actor(other), order=c)
    lines_d = list(d.lines.all())
    services.ship_lines(
        actor=SYSTEM,
        order=d,
        lines=[(lines_d[0].pk, "XY-D1")],
        carrier="邮政",
        tracking_number="EMS00000001",
    )
    start, end = period()
    earlier = start - dt.timedelta(days=3)
    Order.objects.filter(pk=last_month.pk).update(placed_at=earlier)
    OrderEvent.objects.filter(order=last_month).update(at=earlier)
    # A title moved to another category later does not move the orders that had it.
    Title.objects.filter(pk=titles[0].pk).update(category=history)

    in_period = {"at__gte": start, "at__lt": end}
    placed = OrderEvent.objects.filter(from_state="", to_state="placed", **in_period)
    by_channel = dict(placed.values_list("channel").annotate(n=Count("id")).order_by())
    assert by_channel == {"alipay": 1, "wechat": 2, "pc": 1}
    # the order row says the same (its channel and placing time)
    rows = Order.objects.filter(placed_at__gte=start, placed_at__lt=end)
    assert Counter(rows.values_list("channel", flat=True)) == Counter(by_channel)

    completed = OrderEvent.objects.filter(to_state="delivered", **in_period)
    assert sorted(completed.values_list("order__number", flat=True)) == sorted([a.number, b.number])
    assert Order.objects.filter(delivered_at__gte=start, delivered_at__lt=end).count() == 2

    loans = Loan.objects.filter(program="platform", started_at__gte=start, started_at__lt=end)
    assert loans.count() == 3  # volumes borrowed: a's two delivered lines and b's one
    assert loans.aggregate(s=Sum("item__list_price_fen"))["s"] == 3100 + 3200 + 3300
    assert loans.aggregate(s=Sum("order_line__list_price_fen"))["s"] == 3100 + 3200 + 3300

    # Hot order categories: orders placed in the period containing each (finest) category.
    lines = OrderLine.objects.filter(
        order__placed_at__gte=start, order__placed_at__lt=end
    ).values_list("category_name", "order_id")
    orders_per_category = Counter(category for category, _order in set(lines))
    assert orders_per_category == {"文学": 4, "历史": 2}
    assert sum(o.list_price_total_fen for o in (a, b, c, d)) == (
        (3100 + 3200 + 3600) + 3300 + (3400 + 3600) + 3500
    )
