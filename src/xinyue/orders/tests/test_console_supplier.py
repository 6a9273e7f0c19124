"""The supplier console: a supplier sees only its own lines and orders, picks with barcodes,
ships in parts, rejects a line, marks delivered; bad input is a field error that changes nothing;
the full address appears only on the packing slip, and each view of it is audited."""

from __future__ import annotations

import pytest
from django.db.models import Sum
from django.test import Client

from xinyue.accounts.services import create_supplier_user
from xinyue.catalog.models import Offer
from xinyue.circulation.models import Item, Loan
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import Library
from xinyue.orders import services
from xinyue.orders.models import BudgetSlot, LedgerEntry, Order, OrderLine, ReaderQuota, Shipment
from xinyue.orders.tests.conftest import ADDRESS, make_title, placed
from xinyue.readers.services.identity import reader_actor
from xinyue.suppliers.models import Supplier

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-42"


@pytest.fixture(autouse=True)
def _operator_library(zhejiang) -> None:
    Library.objects.filter(code="330000").update(is_operator=True)


@pytest.fixture
def other_supplier(db) -> Supplier:
    return Supplier.objects.create(code="other", name="别家书店")


def supplier_client(supplier: Supplier, username: str) -> Client:
    user = create_supplier_user(
        actor=SYSTEM, supplier=supplier, username=username, password=PASSWORD
    )
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def xinhua(supplier) -> Client:
    return supplier_client(supplier, "xinhua_staff")


@pytest.fixture
def other(other_supplier) -> Client:
    return supplier_client(other_supplier, "other_staff")


def place(reader, titles) -> Order:
    return placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.PC,
        address=ADDRESS,
    )


def state() -> dict:
    """Everything shipping could change."""
    return {
        "lines": sorted(OrderLine.objects.values_list("id", "status", "barcode", "shipment_id")),
        "orders": sorted(Order.objects.values_list("number", "status")),
        "shipments": Shipment.objects.count(),
        "items": Item.objects.count(),
        "loans": Loan.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "stock": Offer.objects.aggregate(s=Sum("stock"))["s"],
        "quota": list(ReaderQuota.objects.values_list("open_volumes", flat=True)),
    }


def ship_url(order: Order) -> str:
    return f"/console/supplier/orders/{order.number}/ship/"


def test_the_list_shows_only_own_lines_with_the_district_never_the_address(
    reader, supplier, other_supplier, titles, budget, xinhua, other
):
    theirs = make_title(90, other_supplier)
    order = place(reader, [titles[0], theirs])
    assert order.status == "confirmed"

    page = xinhua.get("/console/supplier/orders/")
    html = page.content.decode()
    assert page.status_code == 200
    assert order.number in html
    assert "浙江省杭州市西湖区" in html
    assert titles[0].title in html
    assert theirs.title not in html
    for secret in ("文三路", "林晓雨", "13812345678", "138****5678"):
        assert secret not in html

    detail = xinhua.get(f"/console/supplier/orders/{order.number}/").content.decode()
    assert titles[0].title in detail
    assert theirs.title not in detail
    assert "文三路" not in detail
    assert "13812345678" not in detail
    # The other supplier sees its own line of the same order, not ours.
    mine = other.get(f"/console/supplier/orders/{order.number}/").content.decode()
    assert theirs.title in mine
    assert titles[0].title not in mine


def test_another_supplier_cannot_open_or_act_on_an_order(
    reader, supplier, other_supplier, titles, budget, xinhua, other
):
    order = place(reader, titles[:2])
    line = order.lines.first()
    before = state()
    assert order.number not in other.get("/console/supplier/orders/").content.decode()
    for method, path, data in (
        ("get", f"/console/supplier/orders/{order.number}/", None),
        ("get", f"/console/supplier/orders/{order.number}/packing/", None),
        (
            "post",
            ship_url(order),
            {
                f"barcode_{line.pk}": "XY-0000001",
                "carrier": "顺丰速运",
                "tracking_number": "SF123456",
            },
        ),
        ("post", f"/console/supplier/orders/{order.number}/lines/{line.pk}/reject/", {}),
        ("post", f"/console/supplier/orders/{order.number}/delivered/", {}),
    ):
        response = getattr(other, method)(path, data or {})
        assert response.status_code == 404, (path, response.status_code)
    assert state() == before
    assert not AuditEntry.objects.filter(action="order.address_viewed").exists()


def test_library_staff_and_readers_get_no_supplier_console(
    reader, titles, budget, logged_in, hz_desk_user
):
    order = place(reader, titles[:1])
    assert logged_in(hz_desk_user).get("/console/supplier/orders/").status_code == 403
    reader_client = Client()
    reader_client.force_login(reader.user)
    assert reader_client.get(f"/console/supplier/orders/{order.number}/").status_code == 403


def test_a_bad_barcode_is_a_field_error_and_changes_nothing(
    reader, supplier, titles, budget, xinhua
):
    order = place(reader, titles[:2])
    first, second = order.lines.order_by("id")
    before = state()
    cases = [
        ({f"barcode_{first.pk}": "ab"}, f"barcode_{first.pk}", "条码应为4–40位字母、数字或连字符"),
        ({f"barcode_{first.pk}": "XY 0001"}, f"barcode_{first.pk}", "条码应为4–40位"),
        (
            {f"barcode_{first.pk}": "XY-0001", f"barcode_{second.pk}": "XY-0001"},
            f"barcode_{second.pk}",
            "与上面一册的条码相同",
        ),
        ({}, None, "请至少扫描一册的条码"),
    ]
    for barcodes, field, message in cases:
        body = {**barcodes, "carrier": "顺丰速运", "tracking_number": "SF1234567890"}
        response = xinhua.post(ship_url(order), body)
        assert response.status_code == 422, barcodes
        form = response.context["ship_form"]
        errors = form.errors.get(field or "__all__")
        assert errors, (barcodes, form.errors)
        assert message in errors[0], (barcodes, form.errors)
        assert state() == before

    response = xinhua.post(
        ship_url(order),
        {f"barcode_{first.pk}": "XY-0001", "carrier": "某快递", "tracking_number": "1"},
    )
    assert response.status_code == 422
    assert set(response.context["ship_form"].errors) == {"carrier", "tracking_number"}
    assert state() == before


def test_a_barcode_already_on_another_copy_is_refused_on_its_field(
    reader, supplier, titles, budget, xinhua
):
    from xinyue.orders.tests.conftest import make_reader

    earlier = place(make_reader(2), titles[2:3])
    services.ship_lines(
        actor=SYSTEM,
        order=earlier,
        lines=[(earlier.lines.get().pk, "XY-0000042")],
        carrier="顺丰速运",
        tracking_number="SF0000000001",
    )
    order = place(reader, titles[:2])
    first, second = order.lines.order_by("id")
    before = state()
    response = xinhua.post(
        ship_url(order),
        {
            f"barcode_{first.pk}": "XY-0000043",
            f"barcode_{second.pk}": "XY-0000042",
            "carrier": "顺丰速运",
            "tracking_number": "SF1234567890",
        },
    )
    assert response.status_code == 422
    assert response.context["ship_form"].errors == {
        f"barcode_{second.pk}": ["条码已被使用：XY-0000042"]
    }
    assert state() == before


def test_partial_shipments_then_delivery(reader, supplier, titles, budget, xinhua):
    order = place(reader, titles[:3])
    a, b, c = order.lines.order_by("id")

    # First parcel: two of three books (the third left empty stays pending).
    response = xinhua.post(
        ship_url(order),
        {
            f"barcode_{a.pk}": " XY-1000001 ",
            f"barcode_{b.pk}": "XY-1000002",
            f"barcode_{c.pk}": "",
            "carrier": "顺丰速运",
            "tracking_number": "SF1000000001",
        },
    )
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    assert sorted(order.lines.values_list("id", "status", "barcode")) == [
        (a.pk, "shipped", "XY-1000001"),
        (b.pk, "shipped", "XY-1000002"),
        (c.pk, "pending", ""),
    ]
    assert list(Shipment.objects.values_list("carrier", "tracking_number")) == [
        ("顺丰速运", "SF1000000001")
    ]
    assert sorted(Item.objects.values_list("barcode", "status")) == [
        ("XY-1000001", "in_transit"),
        ("XY-1000002", "in_transit"),
    ]
    # Still to fill (one pending line) and in transit (two shipped).
    assert order.number in xinhua.get("/console/supplier/orders/").content.decode()
    assert order.number in xinhua.get("/console/supplier/orders/?show=transit").content.decode()
    page = xinhua.get(f"/console/supplier/orders/{order.number}/")
    assert list(page.context["ship_form"].fields) == [
        f"barcode_{c.pk}",
        "carrier",
        "tracking_number",
    ]

    # Second parcel: the last book, another carrier.
    response = xinhua.post(
        ship_url(order),
        {f"barcode_{c.pk}": "XY-1000003", "carrier": "中国邮政", "tracking_number": "EMS100000002"},
    )
    assert response.status_code == 302
    assert Shipment.objects.count() == 2
    assert order.number not in xinhua.get("/console/supplier/orders/").content.decode()

    response = xinhua.post(f"/console/supplier/orders/{order.number}/delivered/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == "delivered"
    assert set(order.lines.values_list("status", flat=True)) == {"delivered"}
    assert Loan.objects.filter(reader=reader, status="on_loan").count() == 3
    assert order.number in xinhua.get("/console/supplier/orders/?show=done").content.decode()
    spent = LedgerEntry.objects.filter(order=order, kind="spend").aggregate(s=Sum("amount_fen"))
    assert spent["s"] == sum(t.list_price_fen for t in titles[:3])


def test_rejecting_a_line_releases_what_it_held(reader, supplier, titles, budget, xinhua):
    order = place(reader, titles[:2])
    first, second = order.lines.order_by("id")
    stock = Offer.objects.get(pk=first.offer_id).stock
    available = BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"]

    empty = xinhua.post(f"/console/supplier/orders/{order.number}/lines/{first.pk}/reject/", {})
    assert empty.status_code == 422
    assert f"reject-{first.pk}" in empty.content.decode()
    assert OrderLine.objects.get(pk=first.pk).status == "pending"

    response = xinhua.post(
        f"/console/supplier/orders/{order.number}/lines/{first.pk}/reject/",
        {f"reject-{first.pk}-reason": "缺货"},
    )
    assert response.status_code == 302
    first.refresh_from_db()
    assert (first.status, first.status_reason) == ("rejected", "缺货")
    assert Offer.objects.get(pk=first.offer_id).stock == stock + 1
    assert (
        BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"]
        == available + first.list_price_fen
    )
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 1
    order.refresh_from_db()
    assert order.status == "confirmed"  # the other line still to ship
    assert OrderLine.objects.get(pk=second.pk).status == "pending"


def test_the_packing_slip_shows_the_address_and_is_audited(
    reader, supplier, titles, budget, xinhua
):
    order = place(reader, titles[:1])
    response = xinhua.get(f"/console/supplier/orders/{order.number}/packing/")
    html = response.content.decode()
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert "林晓雨 13812345678" in html
    assert "浙江省杭州市西湖区" in html
    assert "西湖区文三路 100 号 2 幢 301 室" in html
    entry = AuditEntry.objects.get(action="order.address_viewed")
    assert (entry.object_id, entry.actor_kind) == (str(order.pk), "supplier")
    assert entry.detail == {"number": order.number, "delivery_kind": "home"}
    assert "13812345678" not in str(entry.detail)
    assert "林晓雨" not in entry.actor_label

    # Once everything of theirs is delivered, the address is no longer theirs to see.
    line = order.lines.get()
    services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(line.pk, "XY-2000001")],
        carrier="顺丰速运",
        tracking_number="SF2000000001",
    )
    services.mark_delivered(actor=SYSTEM, order=order)
    assert xinhua.get(f"/console/supplier/orders/{order.number}/packing/").status_code == 403
    assert AuditEntry.objects.filter(action="order.address_viewed").count() == 1
