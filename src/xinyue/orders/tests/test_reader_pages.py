"""The reader's order pages: the confirm page after "借这些书", placing (one order per page
however often it is submitted), every refusal on the page changing nothing, 我的订单 with its
timeline, cancel and receipt, 我的借阅."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum
from django.test import Client

from xinyue.catalog.models import Offer, ShelfEntry, Title
from xinyue.catalog.services.bookshelf import add_to_shelf
from xinyue.circulation.models import Loan
from xinyue.core.actors import SYSTEM, Channel
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxUser
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events
from xinyue.orders import services
from xinyue.orders.models import BudgetSlot, LedgerEntry, Order, OrderLine, ReaderQuota
from xinyue.orders.tests.conftest import ADDRESS, committed, make_reader, placed
from xinyue.readers.models import Address
from xinyue.readers.services.addresses import add_address
from xinyue.readers.services.consents import withdraw_consent
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "orders": Order.objects.count(),
        "lines": OrderLine.objects.count(),
        "ledger": LedgerEntry.objects.count(),
        "stock": list(Offer.objects.order_by("id").values_list("stock", flat=True)),
        "available": BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"],
        "committed": BudgetSlot.objects.aggregate(s=Sum("committed_fen"))["s"],
        "quota": list(ReaderQuota.objects.values_list("reader_id", "open_volumes")),
        "credit": CreditOrder.objects.count(),
        "shelf": ShelfEntry.objects.count(),
    }


@pytest.fixture
def address(reader) -> Address:
    return add_address(actor=reader_actor(reader), reader=reader, **ADDRESS)


@pytest.fixture
def web(reader) -> Client:
    client = Client()
    client.force_login(reader.user)
    return client


def shelve(reader, titles) -> None:
    for title in titles:
        add_to_shelf(actor=reader_actor(reader), reader_id=reader.pk, title_id=title.pk)


def confirm_page(web, titles):
    return web.get("/orders/new/", {"title_ids": [t.pk for t in titles]})


def token_of(response) -> str:
    return response.context["form"]["token"].value()


def submit(web, titles, token, **extra):
    data = {"title_ids": [t.pk for t in titles], "token": token, "delivery_kind": "home"}
    data.update(extra)
    with committed():  # placing's commit enqueues the credit order's task
        return web.post("/orders/new/", data)


def test_the_shelf_offers_ticking_and_says_the_quota_left(web, reader, titles, budget):
    shelve(reader, titles[:2])
    Offer.objects.filter(title=titles[1]).update(stock=0)
    html = web.get("/shelf/").content.decode()
    assert "每单最多 3 册；您还可以再借 5 册，由省馆买单。" in html
    assert html.count('name="title_ids"') == 1  # only the title in stock can be ticked
    assert f'value="{titles[0].pk}" form="shelf-order"' in html
    assert 'id="borrow-these"' in html


def test_the_confirm_page_shows_books_prices_payer_and_the_postage_rule(
    web, reader, titles, budget, address
):
    services.set_rules(actor=SYSTEM, pickup_postage_payer="reader", pickup_postage_fen=800)
    response = confirm_page(web, titles[:3])
    assert response.status_code == 200
    html = response.content.decode()
    for title in titles[:3]:
        assert title.title in html
    for price in ("¥31.00", "¥32.00", "¥33.00"):
        assert price in html
    assert "码洋合计 ¥96.00" in html
    assert "由省馆买单" in html
    assert "邮费由平台承担，您无需支付" in html  # home delivery
    assert "邮费 ¥8.00，由您承担（到付）" in html  # pick-up, as the operator set it
    assert "您还可以再借 5 册" in html
    assert f'value="{address.uid}" checked' in html
    assert 'id="place-order"' in html
    assert Order.objects.count() == 0


def test_placing_makes_one_order_however_often_the_page_is_submitted(
    web, reader, titles, budget, address
):
    shelve(reader, titles[:4])
    page = confirm_page(web, titles[:3])
    token = token_of(page)
    first = submit(web, titles[:3], token, address_uid=str(address.uid))
    order = Order.objects.get()
    assert first.status_code == 302
    assert first["Location"] == f"/orders/{order.number}/"
    again = submit(web, titles[:3], token, address_uid=str(address.uid))
    assert again["Location"] == f"/orders/{order.number}/"
    assert Order.objects.count() == 1
    assert (order.status, order.channel, order.delivery_kind, order.district_code) == (
        "confirmed",
        "pc",
        "home",
        "330106",
    )
    assert sorted(order.lines.values_list("title_id", flat=True)) == [t.pk for t in titles[:3]]
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 3
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [
        4,
        4,
        4,
        5,
        5,
    ]
    assert CreditOrder.objects.count() == 1
    # the ordered books left the shelf, the fourth stays
    assert list(ShelfEntry.objects.values_list("title_id", flat=True)) == [titles[3].pk]
    detail = web.get(f"/orders/{order.number}/").content.decode()
    assert "信用借阅已确认" in detail
    assert '<dd id="order-postage">平台承担</dd>' in detail


def test_pickup_at_a_member_library(web, reader, titles, budget):
    token = token_of(confirm_page(web, titles[:1]))
    response = submit(web, titles[:1], token, delivery_kind="pickup", pickup_library="330200")
    assert response.status_code == 302
    order = Order.objects.get()
    assert (order.delivery_kind, order.pickup_library.code) == ("pickup", "330200")


@pytest.mark.parametrize(
    ("case", "status", "says", "field"),
    [
        ("no_address", 422, "请选择收货地址", "error-address_uid"),
        ("foreign_address", 422, "找不到该地址", "error-address_uid"),
        ("no_library", 422, "请选择自取的成员馆", "error-pickup_library"),
        ("pickup_off", 422, "暂不支持到馆自取", None),
        ("quota", 409, "信阅借书最多同时在借 4 册，您还可以再借 1 册", None),
        ("withdrawn", 409, "该书已下架", None),
        ("duplicate", 409, "天内已订购过", None),
        ("not_admitted", 409, "信用准入已失效，请重新完成信用授权后再下单", None),
        ("budget", 409, "本期购书经费已用完，请下期再来", None),
    ],
)
def test_every_refusal_is_said_on_the_page_and_changes_nothing(
    web, reader, titles, budget, address, case, status, says, field
):
    services.set_rules(actor=SYSTEM, platform_quota=4)
    chosen, extra = titles[:2], {"address_uid": str(address.uid)}
    if case == "quota":
        placed(
            actor=reader_actor(reader),
            reader=reader,
            title_ids=[t.pk for t in titles[2:5]],
            channel=Channel.PC,
            address_uid=str(address.uid),
        )
    if case == "duplicate":
        placed(
            actor=reader_actor(reader),
            reader=reader,
            title_ids=[titles[0].pk],
            channel=Channel.PC,
            address_uid=str(address.uid),
        )
    token = token_of(confirm_page(web, chosen))
    if case == "no_address":
        extra = {}
    elif case == "foreign_address":
        other = make_reader(2)
        extra = {
            "address_uid": str(add_address(actor=reader_actor(other), reader=other, **ADDRESS).uid)
        }
    elif case == "no_library":
        extra = {"delivery_kind": "pickup", "pickup_library": "999999"}
    elif case == "pickup_off":
        services.set_rules(actor=SYSTEM, pickup_enabled=False)
        extra = {"delivery_kind": "pickup", "pickup_library": "330200"}
    elif case == "withdrawn":
        Title.objects.filter(pk=titles[1].pk).update(is_active=False)
    elif case == "not_admitted":
        withdraw_consent(actor=reader_actor(reader), reader=reader, purpose="credit_check")
    elif case == "budget":
        BudgetSlot.objects.update(available_fen=100)
    before = snapshot()
    response = submit(web, chosen, token, **extra)
    assert response.status_code == status
    html = response.content.decode()
    assert says in html
    if field:
        assert f'id="{field}"' in html
    if case == "not_admitted":
        assert 'href="/credit/" id="next-step"' in html
    assert response.context["form"]["token"].value() != token  # a fresh token for the retry
    assert snapshot() == before


def test_a_provider_refusal_is_said_and_releases_everything(web, reader, titles, budget, address):
    SandboxUser.objects.update(score=500)  # the provider's own risk rule refuses the rent order
    token = token_of(confirm_page(web, titles[:2]))
    before = snapshot()
    response = submit(web, titles[:2], token, address_uid=str(address.uid))
    order = Order.objects.get()
    # The order was placed; the task that opens the credit order ran on the commit and the
    # provider refused: the order page says why.
    assert (response.status_code, response["Location"]) == (302, f"/orders/{order.number}/")
    assert (order.status, order.status_reason) == ("cancelled", "credit:rejected")
    page = web.get(response["Location"]).content.decode()
    assert '<p class="refusal" id="closed-reason">信用服务机构未通过本次借阅</p>' in page
    assert 'id="waiting"' not in page
    after = snapshot()
    for key in ("stock", "available", "committed"):
        assert after[key] == before[key], key
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 0
    # the same page again shows the closed order instead of placing another
    again = submit(web, titles[:2], token, address_uid=str(address.uid))
    assert Order.objects.count() == 1
    assert again.status_code in (302, 409)


def test_too_many_titles_hide_the_confirm_button(web, reader, titles, budget, address):
    html = confirm_page(web, titles[:4]).content.decode()
    assert "这次最多能借 3 本，请回到书架少选几本。" in html
    assert 'id="place-order"' not in html


def test_nothing_ticked_goes_back_to_the_shelf(web, reader, budget):
    response = web.get("/orders/new/")
    assert (response.status_code, response["Location"]) == (302, "/shelf/")


def place_for(reader, titles, address) -> Order:
    return placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.PC,
        address_uid=str(address.uid),
    )


def test_timeline_shipping_receipt_and_loans(web, reader, titles, budget, address, operator):
    order = place_for(reader, titles[:3], address)
    lines = list(order.lines.order_by("id"))
    services.reject_line(actor=SYSTEM, order=order, line_id=lines[2].pk, reason="出版社缺货")
    services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(lines[0].pk, "XY-0000001"), (lines[1].pk, "XY-0000002")],
        carrier="顺丰",
        tracking_number="SF1234567890",
    )
    html = web.get(f"/orders/{order.number}/").content.decode()
    assert "顺丰 运单号 SF1234567890" in html
    assert "书商无法供货" in html
    assert "出版社缺货" in html
    assert 'id="cancel-order"' not in html  # shipped: no cancelling
    assert web.post(f"/orders/{order.number}/cancel/").status_code == 302
    order.refresh_from_db()
    assert order.status == "shipped"
    response = web.post(f"/orders/{order.number}/receipt/")
    assert response.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.received_at is not None) == ("delivered", True)
    loans = list(Loan.objects.order_by("id"))
    assert len(loans) == 2
    html = web.get("/loans/").content.decode()
    for loan in loans:
        assert f"应还日期 {loan.due_on:%Y-%m-%d}" in html
    Loan.objects.filter(pk=loans[0].pk).update(due_on=dt.date.today() - dt.timedelta(days=2))
    html = web.get("/loans/").content.decode()
    assert "已逾期 2 天" in html
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 2


def test_cancel_asks_first_then_releases(web, reader, titles, budget, address):
    before = snapshot()
    order = place_for(reader, titles[:2], address)
    page = web.get(f"/orders/{order.number}/cancel/")
    assert "确定取消订单" in page.content.decode()
    order.refresh_from_db()
    assert order.status == "confirmed"  # asking changes nothing
    web.post(f"/orders/{order.number}/cancel/")
    order.refresh_from_db()
    assert order.status == "cancelled"
    after = snapshot()
    for key in ("stock", "available", "committed"):
        assert after[key] == before[key], key
    html = web.get(f"/orders/{order.number}/").content.decode()
    assert "您取消了订单" in html


def test_another_readers_order_is_not_found(web, titles, budget):
    other = make_reader(3)
    address = add_address(actor=reader_actor(other), reader=other, **ADDRESS)
    order = place_for(other, titles[:1], address)
    assert web.get(f"/orders/{order.number}/").status_code == 404
    assert web.post(f"/orders/{order.number}/cancel/").status_code == 404
    order.refresh_from_db()
    assert order.status == "confirmed"


def test_pages_need_a_reader_and_count_as_page_views(web, reader, titles, budget, address):
    assert Client().get("/orders/").status_code == 302
    order = place_for(reader, titles[:1], address)
    for path in ("/orders/", f"/orders/{order.number}/", "/loans/"):
        assert web.get(path).status_code == 200
    flush_events()
    assert list(
        Event.objects.order_by("id").values_list("type", "channel", "path", "reader_id")
    ) == [
        ("page_view", "pc", "/orders/", reader.pk),
        ("page_view", "pc", f"/orders/{order.number}/", reader.pk),
        ("page_view", "pc", "/loans/", reader.pk),
    ]


def test_an_order_waiting_for_the_reader_at_the_provider(web, reader, titles, budget, address):
    from xinyue.orders.tests.conftest import confirm_on_sandbox

    services.set_rules(actor=SYSTEM, credit_confirm_by_reader=True)
    token = token_of(confirm_page(web, titles[:1]))
    submit(web, titles[:1], token, address_uid=str(address.uid))
    order = Order.objects.get()
    assert order.status == "placed"
    html = web.get(f"/orders/{order.number}/").content.decode()
    assert f'href="{order.confirm_url}" id="confirm-at-provider"'.replace("&", "&amp;") in html
    assert '<meta http-equiv="refresh" content="10">' in html
    assert 'id="cancel-order"' in html  # still cancellable while it waits
    confirm_on_sandbox(order.confirm_url)
    html = web.get(f"/orders/{order.number}/").content.decode()
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert 'id="confirm-at-provider"' not in html
    assert 'http-equiv="refresh"' not in html


def test_adding_an_address_from_the_confirm_page_comes_back(web, reader, titles, budget):
    page = confirm_page(web, titles[:2]).content.decode()
    assert 'id="no-addresses"' in page
    back = f"/orders/new/?title_ids={titles[0].pk}&title_ids={titles[1].pk}"
    fields = {
        "province": "330000",
        "city": "330100",
        "detail": "文三路100号",
        "recipient": "林晓雨",
    }
    fields |= {"phone": "13812345678", "next": back}
    # outside Zhejiang: named on the district field, nothing saved, still on the way back
    refused = web.post("/account/addresses/new/", {**fields, "district_code": "310104"})
    assert refused.status_code == 422
    assert 'id="error-district_code"' in refused.content.decode()
    assert f'name="next" value="{back}"'.replace("&", "&amp;") in refused.content.decode()
    assert Address.objects.count() == 0
    saved = web.post("/account/addresses/new/", {**fields, "district_code": "330106"})
    assert (saved.status_code, saved["Location"]) == (302, back)
    address = Address.objects.get()
    assert f'value="{address.uid}" checked' in web.get(back).content.decode()
    # a next pointing elsewhere is ignored
    elsewhere = web.post(
        "/account/addresses/new/",
        {**fields, "district_code": "330106", "next": "https://evil.example/"},
    )
    assert elsewhere["Location"] == "/account/addresses/"
