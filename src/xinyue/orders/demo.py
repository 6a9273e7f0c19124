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


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    """A budget period around today, so that demo readers can order (safe to run again)."""
    from xinyue.orders.selectors import current_budget_period

    if current_budget_period() is None:
        period = budget_period(amount_fen=DEMO_BUDGET_FEN, slots=8)
        stdout.write(f"orders: budget period {period.name} with {DEMO_BUDGET_FEN // 100} yuan")
    return []
