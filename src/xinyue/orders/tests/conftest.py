"""Fixtures of the order tests: an admitted reader with a credit card (the real credit flow
against the in-process sandbox gateway), a supplier with scarce offers, a budget period."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.test import TestCase

from xinyue.cards.services.issuing import issue_credit_card
from xinyue.catalog.models import Category, Offer, Title
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.orders import services
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor, register_reader
from xinyue.suppliers.models import Supplier

CONSENTS = ("id_number", "credit_check", "share_borrowing")
ADDRESS = {
    "district_code": "330106",
    "detail": "西湖区文三路 100 号 2 幢 301 室",
    "recipient": "林晓雨",
    "phone": "13812345678",
}


def id_number(n: int) -> str:
    from stdnum.cn import ric

    body = f"33010619900101{n:03d}"
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture(autouse=True)
def _credit_sandbox(settings, tmp_path_factory) -> None:
    settings.CREDIT_KEY_DIR = tmp_path_factory.getbasetemp() / "order_credit_keys"
    settings.CREDIT_SANDBOX_ENABLED = True
    settings.CREDIT_SANDBOX_IN_PROCESS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # in process: no socket is used


@pytest.fixture(autouse=True)
def _empty_schedule() -> Iterator[None]:
    """Hooks run by ``committed`` may schedule retries (a webhook to a test address that nobody
    answers); they must not reach the next test's ``run_scheduled_tasks``."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    yield
    HUEY.flush()


@contextmanager
def committed() -> Iterator[None]:
    """Run what the block's transactions left for their commit — above all the task that opens
    the credit order (Huey runs tasks immediately in tests) — as the real commit would: the
    test's own transaction never commits, so without this those hooks would never run."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        yield


def placed(**kwargs: Any):
    """``services.place_order`` and its commit: the order as it is once its task has run."""
    with committed():
        order = services.place_order(**kwargs)
    order.refresh_from_db()
    return order


def confirm_on_sandbox(confirm_url: str, decision: str = "approve", score: int = 650) -> None:
    """The reader on the sandbox's confirm page (reached in process, as in embedded mode)."""
    from xinyue.credit.providers import http

    response = http.client().post(
        confirm_url, data={"decision": decision, "score": str(score)}, allow_redirects=False
    )
    assert response.status_code in (200, 302), response.text[:300]


def make_reader(n: int = 1, *, score: int = 650, card: bool = True) -> Reader:
    """A registered reader admitted by the sandbox (``score``) holding a credit card at 杭州."""
    from xinyue.credit.services import refresh_authorization, start_authorization
    from xinyue.libraries.models import Library

    reader = register_reader(
        id_number=id_number(n),
        name="林晓雨",
        phone=f"138{n:08d}",
        password="read-more-books-7",
        consents=CONSENTS,
    )
    authorization = start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    confirm_on_sandbox(authorization.confirm_url, score=score)
    refresh_authorization(actor=SYSTEM, authorization=authorization)
    if card:
        issue_credit_card(
            actor=reader_actor(reader), reader=reader, library=Library.objects.get(code="330100")
        )
    return reader


@pytest.fixture
def reader(zhejiang) -> Reader:
    return make_reader(1)


@pytest.fixture
def supplier(db) -> Supplier:
    return Supplier.objects.create(code="xinhua", name="浙江新华书店")


def make_title(n: int, supplier: Supplier, *, stock: int = 5, price: int = 4500) -> Title:
    category, _ = Category.objects.get_or_create(name="文学")
    title = Title.objects.create(
        isbn13=f"978730000{n:04d}",
        title=f"测试书目{n}",
        list_price_fen=price,
        category=category,
    )
    Offer.objects.create(supplier=supplier, title=title, stock=stock, price_fen=price)
    return title


@pytest.fixture
def titles(supplier) -> list[Title]:
    return [make_title(i, supplier, price=3000 + i * 100) for i in range(1, 6)]


def open_budget(amount_fen: int = 1_000_000, slots: int = 4):
    services.set_rules(actor=SYSTEM, budget_slots=slots)
    today = clock.today()
    period = services.open_budget_period(
        actor=SYSTEM,
        name=f"{today.year}年度",
        starts_on=today - dt.timedelta(days=1),
        ends_on=today + dt.timedelta(days=365),
    )
    services.top_up_budget(actor=SYSTEM, period=period, amount_fen=amount_fen)
    return period


@pytest.fixture
def budget(db):
    return open_budget()
