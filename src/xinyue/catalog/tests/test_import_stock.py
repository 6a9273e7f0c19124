"""Suppliers update stock by ISBN (the service behind the stock API)."""

from __future__ import annotations

import pytest

from xinyue.accounts.selectors import actor_for_user
from xinyue.accounts.services import create_supplier_user
from xinyue.catalog.errors import TitleNotFound
from xinyue.catalog.models import Offer
from xinyue.catalog.selectors.search import search_titles
from xinyue.catalog.services.offers import update_stock
from xinyue.catalog.tests.engine_data import add_titles
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.suppliers.tests.factories import SupplierFactory


@pytest.fixture
def setting(db, operator):
    (title,) = add_titles([{"title": "围城", "isbn": "9787020024759", "stock": 2}])
    xinhua = title.offers.get().supplier
    bookuu = SupplierFactory(code="bookuu", name="博库书城")
    staff = {
        code: actor_for_user(
            create_supplier_user(actor=operator, supplier=s, username=code, password="pw-1234567")
        )
        for code, s in (("xinhua", xinhua), ("bookuu", bookuu))
    }
    return title, xinhua, bookuu, staff


def test_a_supplier_sets_its_stock_by_isbn_in_any_form(setting):
    title, xinhua, _, staff = setting
    offer = update_stock(actor=staff["xinhua"], supplier=xinhua, isbn="7-02-002475-0", stock=0)
    assert offer.stock == 0
    assert Offer.objects.get(title=title, supplier=xinhua).stock == 0
    assert search_titles(query="围城", in_stock=True).total == 0
    update_stock(actor=staff["xinhua"], supplier=xinhua, isbn="978-7-02-002475-9", stock=7)
    assert search_titles(query="围城", in_stock=True).total == 1
    entries = AuditEntry.objects.filter(action="offer.stock_updated").order_by("id")
    assert [(e.detail["before"], e.detail["after"]) for e in entries] == [(2, 0), (0, 7)]
    assert entries[0].detail["isbn"] == "9787020024759"


def test_a_supplier_without_an_offer_gets_one_at_list_price(setting):
    title, _, bookuu, staff = setting
    offer = update_stock(actor=staff["bookuu"], supplier=bookuu, isbn="9787020024759", stock=4)
    assert (offer.supplier, offer.title, offer.stock, offer.price_fen) == (bookuu, title, 4, 3000)


def test_refusals_change_nothing(setting, hz_admin):
    title, xinhua, _, staff = setting
    with pytest.raises(PermissionDenied):
        update_stock(actor=staff["bookuu"], supplier=xinhua, isbn="9787020024759", stock=9)
    with pytest.raises(PermissionDenied):
        update_stock(actor=hz_admin, supplier=xinhua, isbn="9787020024759", stock=9)
    cases = [
        ("9787020024758", 1, {"isbn": "ISBN 校验位错误（9787020024758）"}),
        ("", 1, {"isbn": "缺少 ISBN"}),
        ("9787020024759", -1, {"stock": "库存应为 0–1000000 的整数"}),
        ("9787020024759", "3", {"stock": "库存应为 0–1000000 的整数"}),
        ("9787020024759", True, {"stock": "库存应为 0–1000000 的整数"}),
    ]
    for isbn, stock, fields in cases:
        with pytest.raises(InvalidInput) as raised:
            update_stock(actor=staff["xinhua"], supplier=xinhua, isbn=isbn, stock=stock)
        assert raised.value.fields == fields
    with pytest.raises(TitleNotFound):
        update_stock(actor=staff["xinhua"], supplier=xinhua, isbn="9787506365437", stock=1)
    assert Offer.objects.get(title=title).stock == 2
    assert Offer.objects.count() == 1
    assert not AuditEntry.objects.filter(action="offer.stock_updated").exists()
