"""Issue 10's "done when", the reader's part, in real headless Chromium at phone size.

A reader's platform order of three books, and a second of one, are placed, shipped and delivered
through the order services (a credit order each at the sandbox provider). On 我的借阅 the reader renews one and books
a courier return for another; 杭州's desk checks the renewed one in on the return desk page,
宁波's kiosk checks a third in over SIP2 (the PyPI ``Sip2`` client on a real socket); both books
now belong to those libraries, and 杭州 lends its new book again by QR credit borrowing, which
the reader confirms on the phone. 杭州 (the reader's home library) receives the courier return
on its returns page. The book of the second order goes overdue, the daily job declares it lost, the sandbox
fails the first deduction and the worker's retry charges it exactly once. The reader's credit
record page lists every report.
"""

from __future__ import annotations

import datetime as dt
import logging
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect
from Sip2.sip2 import Sip2

from xinyue.accounts.services import create_operator_user, create_staff_user
from xinyue.circulation.models import CirculationRule, CreditRecord, Item, Loan
from xinyue.circulation.services import run_daily
from xinyue.circulation.services.credit_sync import send_credit_record
from xinyue.circulation.tests.conftest import deliver
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.libraries.models import Library
from xinyue.orders.tests.conftest import id_number, make_title
from xinyue.sip2.services import create_kiosk_account
from xinyue.sip2.testing import RunningSip2Server
from xinyue.suppliers.models import Supplier

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "desk-password-42"


def staff_tab(browser, live_server, username: str):
    context = browser.new_context(locale="zh-CN", base_url=live_server.url)
    context.set_default_timeout(10_000)
    tab = context.new_page()
    tab.goto("/login/")
    tab.fill("input[name=username]", username)
    tab.fill("input[name=password]", PASSWORD)
    tab.locator("form button.primary").click()
    tab.wait_for_url("**/console/**")
    return context, tab


def kiosk_checkin(port: int, barcode: str) -> dict:
    """宁波's GBK kiosk logs in and checks ``barcode`` in, through the PyPI client."""
    kiosk = Sip2()
    kiosk.log = logging.getLogger("sip2-test-client")
    kiosk.hostName, kiosk.hostPort, kiosk.tlsEnable = "127.0.0.1", port, False
    kiosk.hostEncoding, kiosk.socketTimeout, kiosk.institutionId = "gbk", 10, ""
    kiosk.scLocation = "hall"
    kiosk.connect()
    try:
        login = kiosk.sip_login_response(
            kiosk.get_response(kiosk.sip_login_request("nb-kiosk", "kiosk-pass-1"))
        )
        assert login["fixed"]["Ok"] == "1"
        return kiosk.sip_checkin_response(kiosk.get_response(kiosk.sip_checkin_request(barcode)))
    finally:
        kiosk.disconnect()


def test_the_reader_walks_issue_10(page, browser, live_server, platform_reader, client):
    reader = platform_reader  # admitted by the sandbox, a credit card at 杭州
    province = Library.objects.get(code="330000")
    hangzhou = Library.objects.get(code="330100")
    ningbo = Library.objects.get(code="330200")
    CirculationRule.objects.create(
        program="platform",
        loan_days=30,
        renewals=1,
        renewal_grace_days=2,
        max_open_loans=5,
        compensation_factor_permille=1000,  # the list price: within the order's deposit
        compensation_fee_fen=0,
        remind_days_before=3,
        lost_after_days=30,
    )
    supplier = Supplier.objects.create(code="xinhua", name="浙江新华书店")
    titles = [make_title(i, supplier, price=3000 + i * 100) for i in range(1, 5)]
    barcodes = [f"XY-000000{i}" for i in range(1, 5)]
    renewed, couriered, kiosked = deliver(reader, titles[:3], barcodes[:3])
    (lost,) = deliver(reader, titles[3:], barcodes[3:])  # a second order (3 books per order)
    credit = CreditOrder.objects.get(reference=renewed.credit_reference)
    lost_credit = CreditOrder.objects.get(reference=lost.credit_reference)
    assert (credit.state, lost_credit.state) == ("borrowed", "borrowed")
    create_staff_user(actor=SYSTEM, library=hangzhou, username="hzdesk", password=PASSWORD)
    create_kiosk_account(
        actor=SYSTEM,
        library=ningbo,
        login="nb-kiosk",
        password="kiosk-pass-1",
        charset="gbk",
        location_code="hall",
    )

    # 我的借阅 on the phone: renew one book.
    page.goto("/reader/login/")
    page.fill("input[name=id_number]", id_number(1))
    page.fill("input[name=password]", "read-more-books-7")
    page.click("#login-submit")
    page.wait_for_url("**/account/")
    page.goto("/loans/")
    expect(page.locator("#open-loans li")).to_have_count(4)
    expiry_before = SandboxOrder.objects.get(out_order_no=credit.out_order_no).expiry_time
    page.click(f"#renew-{renewed.pk}")
    page.wait_for_url("**/loans/")
    renewed.refresh_from_db()
    assert (renewed.renewals, renewed.due_on) == (1, clock.today() + dt.timedelta(days=60))
    expect(page.locator(f'li[data-loan="{renewed.pk}"] .due')).to_have_text(
        f"应还日期 {renewed.due_on:%Y-%m-%d}"
    )
    assert CreditRecord.objects.get(key=f"loan:{renewed.pk}:renew:1").state == "sent"
    sandbox = SandboxOrder.objects.get(out_order_no=credit.out_order_no)
    assert sandbox.expiry_time > expiry_before  # the credit order was extended at the provider

    # ... and book a courier pick-up for another; it is bound for the home library, 杭州.
    page.click(f"#courier-{couriered.pk}")
    page.wait_for_url("**/loans/")
    expect(page.locator(f"#return-status-{couriered.pk}")).to_contain_text("已预约快递上门取件")
    couriered.refresh_from_db()
    assert (couriered.return_method, couriered.return_library_id) == ("courier", hangzhou.pk)
    assert couriered.handed_over_at is None

    # 杭州's return desk page: the renewed book is checked in and joins 杭州.
    desk_context, desk = staff_tab(browser, live_server, "hzdesk")
    desk.goto("/console/desk/checkin/")
    desk.fill("input.scan", renewed.item.barcode)
    desk.keyboard.press("Enter")
    expect(desk.locator("#feedback")).to_contain_text("新入藏")
    renewed.refresh_from_db()
    item = Item.objects.get(pk=renewed.item_id)
    assert (renewed.status, renewed.returned_library_id) == ("returned", hangzhou.pk)
    assert (item.owning_library_id, item.current_library_id, item.status) == (
        hangzhou.pk,
        hangzhou.pk,
        "available",
    )
    assert item.transfers.get().from_library_id == province.pk  # provenance kept

    # 宁波's kiosk over SIP2: a third book is checked in and joins 宁波.
    with RunningSip2Server(threads=2) as sip2:
        back = kiosk_checkin(sip2.port, kiosked.item.barcode)
    assert back["fixed"]["Ok"] == "1"
    assert "新入藏" in back["variable"]["AF"][0]
    kiosked.refresh_from_db()
    item = Item.objects.get(pk=kiosked.item_id)
    assert (kiosked.status, kiosked.returned_library_id) == ("returned", ningbo.pk)
    assert (item.owning_library_id, item.current_library_id) == (ningbo.pk, ningbo.pk)
    returns = CreditRecord.objects.filter(kind="return", loan__in=[renewed, kiosked])
    assert sorted(returns.values_list("state", flat=True)) == ["sent", "sent"]

    # 杭州 lends its new book by QR credit borrowing: the desk makes the code, the reader
    # opens it on the phone, sees the library and the book, confirms.
    desk.goto("/console/desk/borrow-session/")
    desk.fill("#barcodes", renewed.item.barcode)
    desk.get_by_role("button", name="生成二维码").click()
    expect(desk.locator("#borrow-qr svg")).to_be_visible()
    path = urlsplit(desk.locator("#borrow-url").get_attribute("href")).path
    page.goto(path)
    expect(page.locator("#borrow-library")).to_contain_text(hangzhou.name)
    expect(page.locator("#borrow-items li")).to_have_count(1)
    expect(page.locator("#borrow-items")).to_contain_text("测试书目1")
    page.click("#borrow-confirm")
    expect(page.locator("#borrow-done")).to_be_visible()
    local = Loan.objects.get(item_id=renewed.item_id, status="on_loan")
    assert (local.program, local.library_id, local.reader_id) == ("local", hangzhou.pk, reader.pk)
    local_credit = CreditOrder.objects.get(reference=local.credit_reference)
    assert local_credit.state == "borrowed"
    assert CreditRecord.objects.get(key=f"loan:{local.pk}:borrow").state == "sent"

    # 杭州 receives the courier return on its returns page: hand-off, then arrival.
    desk.goto("/console/desk/returns/")
    expect(desk.locator(f'#return-{couriered.pk}[data-stage="booked"]')).to_be_visible()
    desk.click(f"#hand-over-{couriered.pk}")
    expect(desk.locator(f'#return-{couriered.pk}[data-stage="in_transit"]')).to_be_visible()
    couriered.refresh_from_db()
    assert couriered.handed_over_at is not None
    desk.click(f"#checkin-{couriered.pk}")
    expect(desk.locator(".messages")).to_contain_text("新入藏")
    expect(desk.locator("#no-returns")).to_be_visible()
    desk_context.close()
    couriered.refresh_from_db()
    assert (couriered.status, couriered.returned_library_id) == ("returned", hangzhou.pk)
    assert Item.objects.get(pk=couriered.item_id).owning_library_id == hangzhou.pk

    # The fourth book: overdue, reported, declared lost by the daily job; the sandbox fails the
    # first deduction (a fault set at its control endpoint), the worker's retry charges once.
    client.force_login(create_operator_user(actor=SYSTEM, username="op", password=PASSWORD))
    fault = client.post(
        "/sandbox/zhima/control/faults",
        {"kind": "failed_deduction", "times": 1},
        content_type="application/json",
    )
    assert fault.status_code == 201, fault.content
    today = clock.today()
    Loan.objects.filter(pk=lost.pk).update(due_on=today - dt.timedelta(days=30))
    assert run_daily(today=today - dt.timedelta(days=29))["overdue"] == 1
    assert CreditRecord.objects.get(key=f"loan:{lost.pk}:overdue").state == "sent"
    assert run_daily(today=today)["lost"] == 1
    lost.refresh_from_db()
    compensation = 3400
    assert (lost.status, lost.compensation_fen) == ("lost", compensation)
    charge = CreditRecord.objects.get(key=f"loan:{lost.pk}:charge")
    assert (charge.state, charge.attempts, charge.last_error) == (
        "pending",
        1,
        "deduction charge_failed",
    )
    lost_credit.refresh_from_db()
    assert (lost_credit.state, lost_credit.charged_fen) == ("charge_failed", 0)
    assert send_credit_record(record_id=charge.pk) is None  # the worker's retry
    assert send_credit_record(record_id=charge.pk) is None  # a late duplicate: nothing
    lost_credit.refresh_from_db()
    assert (lost_credit.state, lost_credit.charge_fen, lost_credit.charged_fen) == (
        "charged",
        compensation,
        compensation,
    )
    assert lost_credit.events.filter(to_state="charged").count() == 1
    sandbox = SandboxOrder.objects.get(out_order_no=lost_credit.out_order_no)
    assert (sandbox.pay_status, sandbox.pay_amount_fen, sandbox.deduction_attempts) == (
        "PAY_SUCCESS",
        compensation,
        2,
    )
    lost.refresh_from_db()
    assert (lost.status, lost.settled_by) == ("settled", "provider")

    # 我的信用记录 lists every report: borrow, renewal, return, overdue, charge.
    page.goto("/credit-records/")
    records = CreditRecord.objects.filter(reader=reader)
    assert sorted(set(records.values_list("kind", flat=True))) == [
        "borrow",
        "charge",
        "overdue",
        "renew",
        "return",
    ]
    assert set(records.values_list("state", flat=True)) == {"sent"}
    expect(page.locator("#credit-records tbody tr")).to_have_count(records.count())
    table = page.locator("#credit-records")
    for label in ("借出", "续借", "归还", "逾期", "遗失赔付扣款"):
        expect(table).to_contain_text(label)
    expect(page.locator(f"#record-{charge.pk}")).to_contain_text(f"{compensation // 100}")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
