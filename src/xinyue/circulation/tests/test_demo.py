"""The circulation demo: loans in every state and floated books, once (a second seed changes
nothing)."""

from __future__ import annotations

import io

import pytest

from xinyue.catalog.tests.factories import TitleFactory
from xinyue.circulation import demo
from xinyue.circulation.models import Item, ItemTransfer, Loan

pytestmark = pytest.mark.django_db


def _seed_all() -> None:
    from xinyue.cards import demo as cards_demo
    from xinyue.credit import demo as credit_demo
    from xinyue.readers import demo as readers_demo

    for module in (readers_demo, credit_demo, cards_demo, demo):
        module.seed(options={}, stdout=io.StringIO())


def _state() -> list[tuple]:
    from xinyue.readers.demo import demo_reader

    names = dict(zip([r.pk for r in demo_reader("admitted")], ["甲", "乙"], strict=False))
    return sorted(
        (row[0], names.get(row[1]), *row[2:])
        for row in Loan.objects.values_list(
            "item__barcode",
            "reader_id",
            "library__code",
            "status",
            "renewals",
            "return_method",
            "returned_library__code",
        )
    )


def test_seed_makes_every_state_once(province):
    for _ in range(9):
        TitleFactory()
    _seed_all()
    first = _state()
    assert first == [
        ("XYDEMO-0001", "甲", "330100", "on_loan", 0, "", None),
        ("XYDEMO-0002", "甲", "330100", "on_loan", 0, "", None),
        ("XYDEMO-0003", "甲", "330100", "on_loan", 1, "", None),
        ("XYDEMO-0004", "甲", "330100", "on_loan", 0, "courier", None),
        ("XYDEMO-0005", "甲", "330000", "returned", 0, "", "330200"),
        ("XYDEMO-0006", "甲", "330000", "returned", 0, "", "330300"),
        ("XYDEMO-0007", "乙", "330200", "on_loan", 0, "", None),
        ("XYDEMO-0007", "甲", "330000", "returned", 0, "", "330200"),
        ("XYDEMO-0008", "乙", "330200", "on_loan", 0, "", None),
    ]
    overdue = [loan.item.barcode for loan in Loan.objects.all() if loan.is_overdue]
    assert overdue == ["XYDEMO-0008"]
    assert sorted(ItemTransfer.objects.values_list("item__barcode", "to_library__code")) == [
        ("XYDEMO-0005", "330200"),
        ("XYDEMO-0006", "330300"),
        ("XYDEMO-0007", "330200"),
    ]
    assert Item.objects.get(barcode="XYDEMO-0006").owning_library.code == "330300"
    _seed_all()
    assert _state() == first
    assert Item.objects.filter(barcode__startswith="XYDEMO-").count() == 8
