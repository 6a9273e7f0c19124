"""The demo's ordering budget (``xinyue seed-demo``), and readers and a scarce catalog for the
concurrency tests and ``xinyue bench orders``: readers admitted through the real credit flow
against the in-process sandbox, holding a credit card at 杭州图书馆."""

from __future__ import annotations

import datetime as dt
from typing import Any

from stdnum.cn import ric

from xinyue.core import clock
from xinyue.core.actors import SYSTEM

DEMO_BUDGET_FEN = 50_000_000  # 50 万元: the provincial library's demo budget for the year

CONSENTS = ("id_number", "credit_check", "share_borrowing")
ADDRESS = {
    "district_code": "330106",
    "detail": "西湖区文三路 100 号 2 幢 301 室",
    "recipient": "林晓雨",
    "phone": "13812345678",
}


def id_number(n: int, *, birth: str = "19900101") -> str:
    body = f"330106{birth}{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def admitted_reader(n: int, *, score: int = 650, card: bool = True, birth: str = "19900101"):
    """Reader ``n`` registered, admitted by the sandbox at ``score`` (the reader's own confirm
    page, reached in process) and, when admitted, holding a credit card at 杭州图书馆."""
    from xinyue.cards.services.issuing import issue_credit_card
    from xinyue.credit.providers import http
    from xinyue.credit.services import refresh_authorization, start_authorization
    from xinyue.libraries.models import Library
    from xinyue.readers.services.identity import reader_actor, register_reader

    reader = register_reader(
        id_number=id_number(n, birth=birth),
        name="林晓雨",
        phone=f"13{n:09d}",
        password="read-more-books-7",
        consents=CONSENTS,
    )
    authorization = start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    response = http.client().post(
        authorization.confirm_url,
        data={"decision": "approve", "score": str(score)},
        allow_redirects=False,
    )
    if response.status_code not in (200, 302):
        raise RuntimeError(f"sandbox confirm page answered {response.status_code}")
    refresh_authorization(actor=SYSTEM, authorization=authorization)
    if card:
        issue_credit_card(
            actor=reader_actor(reader), reader=reader, library=Library.objects.get(code="330100")
        )
    return reader


def scarce_titles(*, count: int, stock: int, price_fen: int, supplier_code: str = "xinhua"):
    """``count`` titles offered by one supplier with ``stock`` copies each."""
    from xinyue.catalog.models import Category, Offer, Title
    from xinyue.suppliers.models import Supplier

    supplier, _ = Supplier.objects.get_or_create(
        code=supplier_code, defaults={"name": "浙江新华书店"}
    )
    category, _ = Category.objects.get_or_create(name="文学")
    titles = []
    for i in range(count):
        title, _ = Title.objects.get_or_create(
            isbn13=f"9787{supplier.pk:03d}{i:06d}",
            defaults={
                "title": f"稀缺新书{i + 1}",
                "list_price_fen": price_fen,
                "category": category,
            },
        )
        Offer.objects.update_or_create(
            supplier=supplier, title=title, defaults={"stock": stock, "price_fen": price_fen}
        )
        titles.append(title)
    return titles


def budget_period(*, amount_fen: int, slots: int, name: str = ""):
    """A budget period around today with ``amount_fen`` spread over ``slots`` slots."""
    from xinyue.orders import services

    services.set_rules(actor=SYSTEM, budget_slots=slots)
    today = clock.today()
    period = services.open_budget_period(
        actor=SYSTEM,
        name=name or f"{today.year}年度",
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=365),
    )
    services.top_up_budget(actor=SYSTEM, period=period, amount_fen=amount_fen)
    return period


# Demo orders: (idempotency key, reader index, title indexes, what happens after placing).
# Reader 0 is 演示读者甲, reader 1 演示读者乙; each holds at most 4 open volumes (quota 5).
DEMO_TITLES = [
    ("活着", "余华", 3500),
    ("平凡的世界（全三册）", "路遥", 10800),
    ("围城", "钱锺书", 3900),
    ("三体", "刘慈欣", 2300),
    ("人间词话", "王国维", 2800),
    ("撒哈拉的故事", "三毛", 3200),
    ("长安的荔枝", "马伯庸", 4500),
    ("额尔古纳河右岸", "迟子建", 3600),
    ("文城", "余华", 5900),
    ("蛙", "莫言", 4200),
    ("我与地坛", "史铁生", 3300),
    ("繁花", "金宇澄", 6800),
    ("边城", "沈从文", 2600),
]
SOLD_OUT = 12  # 《边城》: no stock, two readers on its wait-list
DEMO_ORDERS = [
    ("demo-awaiting", 0, [0], "awaiting"),  # waits for the reader at the provider
    ("demo-confirmed", 0, [1], "confirmed"),
    ("demo-partly-shipped", 0, [2, 3], "partly_shipped"),
    ("demo-cancelled", 0, [4], "cancelled"),
    ("demo-expired", 0, [5], "expired"),
    ("demo-shipped", 1, [6], "shipped"),
    ("demo-delivered", 1, [7], "delivered"),  # loans started
    ("demo-received", 1, [8], "received"),  # receipt confirmed: completed
    ("demo-line-rejected", 1, [9, 10], "line_rejected"),  # one line rejected, the other delivered
]


def _demo_titles() -> list:
    from stdnum import ean

    from xinyue.catalog.models import Category, Offer, Title
    from xinyue.catalog.services.indexing import index_titles
    from xinyue.suppliers.models import Supplier

    supplier, _ = Supplier.objects.get_or_create(code="xinhua", defaults={"name": "浙江新华书店"})
    category, _ = Category.objects.get_or_create(name="文学")
    titles = []
    for i, (name, author, price) in enumerate(DEMO_TITLES):
        body = f"978799900{i:03d}"
        title, created = Title.objects.get_or_create(
            isbn13=body + ean.calc_check_digit(body),
            defaults={
                "title": name,
                "authors": [author],
                "authors_display": author,
                "list_price_fen": price,
                "category": category,
            },
        )
        if created:
            Offer.objects.create(
                supplier=supplier,
                title=title,
                stock=0 if i == SOLD_OUT else 5,
                price_fen=price,
            )
        titles.append(title)
    index_titles(title_ids=[t.pk for t in titles])  # findable in search like imported ones
    return titles


def _play(order, what: str, barcode: str) -> None:
    """Move a freshly placed demo order to ``what`` through the services."""
    from xinyue.core.actors import SYSTEM
    from xinyue.orders import services
    from xinyue.orders.models import Order
    from xinyue.readers.services.identity import reader_actor

    lines = list(order.lines.order_by("id"))
    ship: dict[str, Any] = {"actor": SYSTEM, "order": order, "carrier": "顺丰速运"}
    if what == "partly_shipped":
        services.ship_lines(lines=[(lines[0].pk, barcode)], tracking_number="SF1000000001", **ship)
    elif what == "cancelled":
        services.cancel_order(actor=reader_actor(order.reader), order=order)
    elif what == "expired":
        # The reader never confirmed: let the window pass now instead of in 30 minutes.
        Order.objects.filter(pk=order.pk).update(confirm_expires_at=clock.now())
        services.refresh_order(actor=SYSTEM, order=Order.objects.get(pk=order.pk))
    elif what in ("shipped", "delivered", "received"):
        services.ship_lines(lines=[(lines[0].pk, barcode)], tracking_number="SF1000000002", **ship)
        if what != "shipped":
            services.mark_delivered(actor=SYSTEM, order=order)
        if what == "received":
            services.confirm_receipt(actor=reader_actor(order.reader), order=order)
    elif what == "line_rejected":
        services.reject_line(actor=SYSTEM, order=order, line_id=lines[1].pk, reason="出版社断货")
        services.ship_lines(lines=[(lines[0].pk, barcode)], tracking_number="SF1000000003", **ship)
        services.mark_delivered(actor=SYSTEM, order=order)


def seed_orders(*, stdout: Any) -> int:
    """Demo orders in every state, a wait-list and the messages they sent; each order is
    placed once (its idempotency key marks it), so a second run adds nothing."""
    from xinyue.core.actors import Channel
    from xinyue.credit.selectors import current_admittance
    from xinyue.orders import services
    from xinyue.orders.models import Order
    from xinyue.orders.selectors import platform_rules
    from xinyue.readers.demo import demo_reader
    from xinyue.readers.services.identity import reader_actor

    readers = demo_reader("admitted")
    if len(readers) < 2 or any(current_admittance(reader=r) is None for r in readers):
        stdout.write("orders: demo readers are not admitted (sandbox off?): no demo orders")
        return 0
    titles = _demo_titles()
    confirm_by_reader = platform_rules().credit_confirm_by_reader
    placed = 0
    for n, (key, who, picks, what) in enumerate(DEMO_ORDERS, start=1):
        reader = readers[who]
        if Order.objects.filter(reader=reader, idempotency_key=key).exists():
            continue
        waits = what in ("awaiting", "expired")
        if waits != confirm_by_reader:
            services.set_rules(actor=SYSTEM, credit_confirm_by_reader=waits)
            confirm_by_reader = waits
        order = services.place_order(
            actor=reader_actor(reader),
            reader=reader,
            title_ids=[titles[i].pk for i in picks],
            channel=(Channel.ALIPAY, Channel.WECHAT, Channel.PC)[n % 3],
            address=ADDRESS,
            idempotency_key=key,
            open_credit=False,
        )
        # What the worker's task does after the commit, done here so the demo is ready at once.
        services.open_order_credit(order_id=order.pk)
        order = Order.objects.get(pk=order.pk)
        _play(order, what, barcode=f"XYDEMO-{n:04d}")
        placed += 1
    if confirm_by_reader:
        services.set_rules(actor=SYSTEM, credit_confirm_by_reader=False)
    for reader in readers:
        services.join_wait_list(
            actor=reader_actor(reader), reader=reader, title_id=titles[SOLD_OUT].pk
        )
    return placed


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    """A budget period around today, demo orders in every state and a wait-list (safe to run
    again)."""
    from xinyue.orders.selectors import current_budget_period

    if current_budget_period() is None:
        period = budget_period(amount_fen=DEMO_BUDGET_FEN, slots=8)
        stdout.write(f"orders: budget period {period.name} with {DEMO_BUDGET_FEN // 100} yuan")
    placed = seed_orders(stdout=stdout)
    if placed:
        stdout.write(f"orders: {placed} demo orders in every state, a wait-list")
    return []
