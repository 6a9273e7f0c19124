"""The supplier console in real headless Chromium: an order placed through the services is picked
with a "scanner" (keyboard input ending in Enter), shipped in two parcels, marked delivered; the
operator then sees the spend on the budget page, to the fen."""

from __future__ import annotations

import pytest

from xinyue.accounts.services import create_operator_user, create_supplier_user
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.models import AuditEntry
from xinyue.core.money import fen_to_yuan
from xinyue.libraries.models import Library
from xinyue.orders import services
from xinyue.orders.models import Order
from xinyue.orders.tests.conftest import ADDRESS, make_reader, make_title, open_budget
from xinyue.readers.services.identity import reader_actor

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-42"


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.locator("form button.primary").click()
    page.wait_for_url("**/console/")


def focused(page) -> str:
    return page.evaluate("document.activeElement.name || document.activeElement.id")


def test_supplier_picks_ships_delivers_and_the_operator_sees_the_spend(
    page, browser, live_server, zhejiang, supplier
):
    Library.objects.filter(code="330000").update(is_operator=True)
    period = open_budget(amount_fen=500_000)
    titles = [make_title(i, supplier, price=3000 + i * 100) for i in (1, 2)]
    reader = make_reader(1)
    order = services.place_order(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.WECHAT,
        address=ADDRESS,
    )
    first, second = order.lines.order_by("id")
    create_supplier_user(actor=SYSTEM, supplier=supplier, username="xinhua", password=PASSWORD)
    create_operator_user(actor=SYSTEM, username="op", password=PASSWORD)

    log_in(page, "xinhua")
    page.locator(".console-nav").get_by_role("link", name="待发货").click()
    row = page.locator("#supplier-orders tbody tr").first
    assert "浙江省杭州市西湖区" in row.inner_text()
    assert "文三路" not in page.content()
    row.get_by_role("link", name=order.number).click()
    page.wait_for_url(f"**/console/supplier/orders/{order.number}/")

    # The packing slip: the full address, once, audited.
    page.locator("#packing-link").click()
    assert "西湖区文三路 100 号 2 幢 301 室" in page.locator("#packing-address").inner_text()
    assert AuditEntry.objects.filter(action="order.address_viewed").count() == 1
    page.go_back()

    # First parcel: the scanner types the first barcode and Enter; the second book is left for
    # later (Enter on its empty field moves on to the carrier).
    assert focused(page) == f"barcode_{first.pk}"
    page.keyboard.type("XY-0000001")
    page.keyboard.press("Enter")
    assert focused(page) == f"barcode_{second.pk}"
    assert page.url.endswith(f"/console/supplier/orders/{order.number}/")  # nothing submitted
    page.keyboard.press("Enter")
    assert focused(page) == "carrier"
    page.select_option("select[name=carrier]", "顺丰速运")
    page.locator("input[name=tracking_number]").focus()
    page.keyboard.type("SF1000000001")
    page.keyboard.press("Enter")
    assert focused(page) == "ship-button"
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/console/supplier/orders/{order.number}/")
    assert "已发货 1 册，运单号 SF1000000001" in page.locator(".messages").inner_text()
    assert page.locator("#order-status").inner_text() == "已发货"
    assert page.locator(f"#line-{first.pk}").get_attribute("data-status") == "shipped"
    assert page.locator(f"#line-{second.pk}").get_attribute("data-status") == "pending"

    # A scanned barcode that is already taken: a field error, nothing shipped.
    assert focused(page) == f"barcode_{second.pk}"
    page.keyboard.type("XY-0000001")
    page.keyboard.press("Enter")
    page.select_option("select[name=carrier]", "中国邮政")
    page.fill("input[name=tracking_number]", "EMS100000002")
    page.locator("#ship-button").click()
    assert "条码已被使用：XY-0000001" in page.locator("#ship-form").inner_text()
    assert page.locator(f"#line-{second.pk}").get_attribute("data-status") == "pending"

    # Second parcel with the right barcode.
    page.fill(f"input[name=barcode_{second.pk}]", "XY-0000002")
    page.select_option("select[name=carrier]", "中国邮政")
    page.fill("input[name=tracking_number]", "EMS100000002")
    page.locator("#ship-button").click()
    page.wait_for_url(f"**/console/supplier/orders/{order.number}/")
    assert page.locator("#shipments tbody tr").count() == 2
    assert page.locator("#ship-form").count() == 0

    page.locator("#delivered-button").click()
    page.wait_for_url(f"**/console/supplier/orders/{order.number}/")
    assert page.locator("#order-status").inner_text() == "已送达"
    assert Order.objects.get(pk=order.pk).status == "delivered"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # a phone, no sideways

    # The operator sees the spend.
    spent = sum(t.list_price_fen for t in titles)
    desk = browser.new_context(locale="zh-CN", base_url=live_server.url)
    operator = desk.new_page()
    log_in(operator, "op")
    operator.locator(".console-nav").get_by_role("link", name="购书预算").click()
    operator.get_by_role("link", name=period.name).click()
    assert operator.locator("#fig-spent").inner_text() == f"¥{fen_to_yuan(spent)}"
    assert operator.locator("#fig-available").inner_text() == f"¥{fen_to_yuan(500_000 - spent)}"
    assert operator.locator("#fig-committed").inner_text() == "¥0.00"
    assert operator.locator("#total-spend").inner_text() == str(spent)
    assert "台账与余额相符" in operator.locator("#ledger-check").inner_text()
    assert (
        operator.locator("#ledger tbody tr", has_text=order.number).count() == 3
    )  # commitment, 2 spends
    desk.close()
