"""The walk of issue 9 in real headless Chromium at phone size: a reader with admittance and a
credit card puts 3 titles on the shelf, orders them, sees the postage rule, finds the order in
我的订单; the supplier's staff ship them from the supplier console; the reader
confirms receipt in the browser and 我的借阅 shows the 3 loans with their due dates. The budget
ledger, stock and quota moved by exactly what was ordered."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from xinyue.accounts.services import create_supplier_user
from xinyue.catalog.models import Offer
from xinyue.circulation.models import Loan
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.orders.models import LedgerEntry, Order, ReaderQuota
from xinyue.orders.selectors import budget_summary, ledger_balances
from xinyue.orders.tests.conftest import ADDRESS, id_number, make_reader, make_title, open_budget
from xinyue.readers.services.addresses import add_address
from xinyue.readers.services.identity import reader_actor
from xinyue.suppliers.models import Supplier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_reader_orders_three_books_and_gets_three_loans(
    page, browser, live_server, zhejiang, categories
):
    Library.objects.filter(code="330000").update(is_operator=True)
    reader = make_reader(1)
    add_address(actor=reader_actor(reader), reader=reader, **ADDRESS)
    supplier = Supplier.objects.create(code="xinhua", name="浙江新华书店")
    titles = [make_title(i, supplier, stock=2, price=3000 + i * 100) for i in range(1, 4)]
    period = open_budget(amount_fen=100_000)

    page.goto("/reader/login/")
    page.fill("input[name=id_number]", id_number(1))
    page.fill("input[name=password]", "read-more-books-7")
    page.click("#login-submit")
    page.wait_for_url("**/account/")

    for title in titles:
        page.goto(f"/titles/{title.pk}/")
        page.get_by_role("button", name="加入书架").click()
        expect(page.get_by_role("button", name="已在书架 ✓")).to_be_visible()
    expect(page.locator("#shelf-count")).to_have_text("3")

    page.locator("a.shelf").click()
    page.wait_for_url("**/shelf/")
    expect(page.locator("#shelf-limits")).to_contain_text("您还可以再借 5 册")
    for checkbox in page.locator('input[name="title_ids"]').all():
        checkbox.check()
    page.click("#borrow-these")
    page.wait_for_url("**/orders/new/?*")

    expect(page.locator("#order-books li")).to_have_count(3)
    expect(page.locator("#order-total")).to_have_text("码洋合计 ¥96.00 · 由省馆买单")
    home_rule = page.locator('.postage-rule[data-kind="home"]')
    expect(home_rule).to_have_text("邮费由平台承担，您无需支付")
    assert home_rule.is_visible()
    assert page.locator("#kind-home").is_checked()
    page.click("#place-order")
    page.wait_for_url("**/orders/XY*/")
    order = Order.objects.get()
    expect(page.locator("#order-status")).to_have_text("已确认")
    expect(page.locator(".messages")).to_contain_text("下单成功，省馆为您买单")

    page.click("#nav-orders")
    page.wait_for_url("**/orders/")
    expect(page.locator(f'#orders li[data-number="{order.number}"]')).to_contain_text("已确认")
    expect(page.locator("#shelf-count")).to_have_text("0")  # the ordered books left the shelf

    # the supplier's staff ship the three books from the supplier console, in their own browser
    create_supplier_user(
        actor=SYSTEM, supplier=supplier, username="xinhua", password="correct-horse-42"
    )
    lines = list(order.lines.order_by("id"))
    console = browser.new_context(locale="zh-CN", base_url=live_server.url)
    staff = console.new_page()
    staff.goto("/login/")
    staff.fill("input[name=username]", "xinhua")
    staff.fill("input[name=password]", "correct-horse-42")
    staff.locator("form button.primary").click()
    staff.wait_for_url("**/console/")
    staff.locator(".console-nav").get_by_role("link", name="待发货").click()
    staff.locator("#supplier-orders").get_by_role("link", name=order.number).click()
    staff.wait_for_url(f"**/console/supplier/orders/{order.number}/")
    for i, line in enumerate(lines, 1):
        staff.fill(f"input[name=barcode_{line.pk}]", f"XY-{i:07d}")
    staff.select_option("select[name=carrier]", "顺丰速运")
    staff.fill("input[name=tracking_number]", "SF1234567890")
    staff.locator("#ship-button").click()
    staff.wait_for_url(f"**/console/supplier/orders/{order.number}/")
    expect(staff.locator("#order-status")).to_have_text("已发货")
    console.close()

    page.locator(f'#orders a[href="/orders/{order.number}/"]').click()
    page.wait_for_url(f"**/orders/{order.number}/")
    expect(page.locator('#timeline li[data-step="shipped"]')).to_contain_text(
        "顺丰速运 运单号 SF1234567890"
    )
    assert page.locator("#cancel-order").count() == 0
    page.click("#confirm-receipt")
    page.wait_for_url(f"**/orders/{order.number}/")
    expect(page.locator("#order-status")).to_have_text("已送达")
    expect(page.locator('#timeline li[data-step="received"]')).to_have_class("done")

    page.click("#nav-loans")
    page.wait_for_url("**/loans/")
    loans = list(Loan.objects.order_by("id"))
    assert [(loan.program, loan.status) for loan in loans] == [("platform", "on_loan")] * 3
    rows = page.locator("#open-loans li")
    expect(rows).to_have_count(3)
    for loan in loans:
        expect(page.locator(f'li[data-loan="{loan.pk}"] .due')).to_have_text(
            f"应还日期 {loan.due_on:%Y-%m-%d}"
        )

    # exactly what was ordered moved: 9,600 fen spent, 1 copy of each title, 3 units of quota
    total = 3100 + 3200 + 3300
    assert budget_summary(period=period) == {
        "topped_up_fen": 100_000,
        "available_fen": 100_000 - total,
        "committed_fen": 0,
        "spent_fen": total,
    }
    assert ledger_balances(period=period) == budget_summary(period=period)
    assert sorted(
        LedgerEntry.objects.exclude(kind="top_up").values_list("kind", "amount_fen")
    ) == sorted([("commitment", total)] + [("spend", fen) for fen in (3100, 3200, 3300)])
    assert list(Offer.objects.order_by("title_id").values_list("stock", flat=True)) == [1, 1, 1]
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 3
