"""The operator's rules and budget pages: rules validated with field errors and audited, periods
opened, a top-up moves the ledger by exactly its amount, the ledger's totals add up to the
figures shown, and the export carries every entry in fen."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.db.models import Sum
from openpyxl import load_workbook

from xinyue.core import clock
from xinyue.core.actors import Channel
from xinyue.core.models import AuditEntry
from xinyue.orders import services
from xinyue.orders.models import BudgetPeriod, BudgetSlot, LedgerEntry, PlatformRules
from xinyue.orders.selectors import budget_summary, platform_rules
from xinyue.orders.tests.conftest import ADDRESS, placed
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db

RULES = {
    "max_volumes_per_order": "4",
    "platform_quota": "8",
    "loan_days": "45",
    "duplicate_window_days": "60",
    "confirm_minutes": "20",
    "pickup_enabled": "",
    "home_postage_payer": "reader",
    "home_postage": "8.50",
    "pickup_postage_payer": "platform",
    "pickup_postage": "0",
}


@pytest.fixture
def op(logged_in, operator_user):
    return logged_in(operator_user)


def rules_row() -> dict:
    return {name: getattr(platform_rules(), name) for name in services.RULE_FIELDS}


def test_rules_are_saved_and_audited(op):
    response = op.post("/console/orders/rules/", {**RULES, "pickup_enabled": "on"})
    assert response.status_code == 302
    rules = PlatformRules.objects.get(pk=1)
    assert (
        rules.max_volumes_per_order,
        rules.platform_quota,
        rules.loan_days,
        rules.duplicate_window_days,
        rules.confirm_minutes,
        rules.pickup_enabled,
        rules.home_postage_payer,
        rules.home_postage_fen,
        rules.pickup_postage_payer,
        rules.pickup_postage_fen,
    ) == (4, 8, 45, 60, 20, True, "reader", 850, "platform", 0)
    entry = AuditEntry.objects.get(action="orders.rules_changed")
    assert entry.actor_kind == "operator"
    assert entry.detail["before"]["loan_days"] == 30
    assert entry.detail["after"]["loan_days"] == 45
    assert entry.detail["after"]["home_postage_fen"] == 850
    page = op.get("/console/orders/rules/").content.decode()
    assert 'value="8.50"' in page
    assert "读者承担（到付） ¥8.50" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"max_volumes_per_order": "0"}, "max_volumes_per_order", "1"),
        ({"max_volumes_per_order": "21"}, "max_volumes_per_order", "20"),
        ({"platform_quota": "abc"}, "platform_quota", "整数"),
        ({"loan_days": "366"}, "loan_days", "365"),
        ({"duplicate_window_days": "-1"}, "duplicate_window_days", "0"),
        ({"home_postage": "8.555"}, "home_postage", "两位小数"),
        ({"home_postage": "-3"}, "home_postage", "负数"),
        ({"home_postage": "100.01"}, "home_postage", "100.00"),
        ({"home_postage": "0"}, "home_postage", "请填写金额"),
        ({"home_postage_payer": "nobody"}, "home_postage_payer", "nobody"),
    ],
)
def test_bad_rules_are_field_errors_and_change_nothing(op, changes, field, message):
    before = rules_row()
    response = op.post("/console/orders/rules/", {**RULES, **changes})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == [field], errors
    assert message in errors[field][0]
    assert f'id="error-{field}"' in response.content.decode()
    assert rules_row() == before
    assert not AuditEntry.objects.filter(action="orders.rules_changed").exists()


def test_the_service_refuses_rules_out_of_range_by_field():
    from xinyue.core.actors import SYSTEM
    from xinyue.core.errors import InvalidInput

    with pytest.raises(InvalidInput) as caught:
        services.set_rules(actor=SYSTEM, loan_days=0, platform_quota=True, budget_slots=65)
    assert set(caught.value.fields) == {"loan_days", "platform_quota", "budget_slots"}
    assert not PlatformRules.objects.exists()


def test_opening_a_period_and_topping_it_up_moves_the_ledger_by_exactly_the_amount(op):
    today = clock.today()
    response = op.post(
        "/console/orders/budget/",
        {
            "name": "2026年度",
            "starts_on": str(today),
            "ends_on": str(today + dt.timedelta(days=365)),
        },
    )
    assert response.status_code == 302
    period = BudgetPeriod.objects.get(name="2026年度")
    assert response["Location"] == f"/console/orders/budget/{period.pk}/"
    assert AuditEntry.objects.filter(action="orders.budget_period_opened").count() == 1

    url = f"/console/orders/budget/{period.pk}/"
    for amount, note in (("12345.67", "浙财教〔2026〕1号"), ("0.01", "")):
        before = LedgerEntry.objects.filter(period=period).aggregate(s=Sum("amount_fen"))["s"] or 0
        assert op.post(url, {"amount": amount, "note": note}).status_code == 302
        after = LedgerEntry.objects.filter(period=period).aggregate(s=Sum("amount_fen"))["s"]
        expected = int(amount.replace(".", ""))
        assert after - before == expected
    assert budget_summary(period=period)["available_fen"] == 1234568
    audits = AuditEntry.objects.filter(action="orders.budget_top_up").order_by("id")
    assert [(a.detail["amount_fen"], a.detail["note"]) for a in audits] == [
        (1234567, "浙财教〔2026〕1号"),
        (1, ""),
    ]
    html = op.get(url).content.decode()
    assert 'id="fig-available">¥12345.68<' in html
    assert 'id="total-top_up">1234568<' in html


@pytest.mark.parametrize(
    ("amount", "message"),
    [("0", "大于 0"), ("-5", "负数"), ("1.001", "两位小数"), ("abc", "不是金额"), ("", "必填")],
)
def test_a_bad_top_up_is_a_field_error_and_changes_nothing(op, budget, amount, message):
    before = (
        LedgerEntry.objects.count(),
        BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"],
        AuditEntry.objects.count(),
    )
    response = op.post(f"/console/orders/budget/{budget.pk}/", {"amount": amount})
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert list(errors) == ["amount"], errors
    assert message in errors["amount"][0], errors
    assert (
        LedgerEntry.objects.count(),
        BudgetSlot.objects.aggregate(s=Sum("available_fen"))["s"],
        AuditEntry.objects.count(),
    ) == before


def test_an_overlapping_period_is_a_field_error(op, budget):
    response = op.post(
        "/console/orders/budget/",
        {"name": "另一期", "starts_on": str(clock.today()), "ends_on": str(clock.today())},
    )
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["ends_on"]
    response = op.post(
        "/console/orders/budget/",
        {
            "name": "另一期",
            "starts_on": str(clock.today()),
            "ends_on": str(clock.today() + dt.timedelta(days=10)),
        },
    )
    assert response.status_code == 422
    assert list(response.context["form"].errors) == ["starts_on"]
    assert BudgetPeriod.objects.count() == 1


def test_spend_and_release_show_and_the_ledger_adds_up_to_the_fen(
    op, reader, titles, budget, zhejiang
):
    from xinyue.core.actors import SYSTEM
    from xinyue.libraries.models import Library

    Library.objects.filter(code="330000").update(is_operator=True)
    order = placed(
        actor=reader_actor(reader),
        reader=reader,
        title_ids=[titles[0].pk, titles[1].pk, titles[2].pk],
        channel=Channel.PC,
        address=ADDRESS,
    )
    a, b, c = order.lines.order_by("id")
    services.reject_line(actor=SYSTEM, order=order, line_id=c.pk, reason="缺货")
    services.ship_lines(
        actor=SYSTEM,
        order=order,
        lines=[(a.pk, "XY-3000001"), (b.pk, "XY-3000002")],
        carrier="顺丰速运",
        tracking_number="SF3000000001",
    )
    services.mark_delivered(actor=SYSTEM, order=order)
    spent = a.list_price_fen + b.list_price_fen
    released = c.list_price_fen

    response = op.get(f"/console/orders/budget/{budget.pk}/")
    figures = response.context["figures"]
    assert (
        figures.topped_up_fen,
        figures.available_fen,
        figures.committed_fen,
        figures.spent_fen,
        figures.released_fen,
    ) == (1_000_000, 1_000_000 - spent, 0, spent, released)
    assert figures.balanced
    kinds = {k["kind"]: k["fen"] for k in response.context["kinds"]}
    assert kinds == {
        "top_up": 1_000_000,
        "commitment": spent + released,
        "release": released,
        "spend": spent,
    }
    assert kinds["top_up"] - kinds["commitment"] + kinds["release"] == figures.available_fen
    html = response.content.decode()
    assert order.number in html
    assert "相符" in html

    overview = op.get("/console/orders/budget/")
    [row] = overview.context["periods"]
    assert (row.spent_fen, row.released_fen, row.balanced) == (spent, released, True)

    export = op.get(f"/console/orders/budget/{budget.pk}/ledger.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(export.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == ("时间", "类型", "金额（分）", "分片", "订单号", "书目", "操作者", "备注")
    entries = [r for r in rows[1:] if r[0] and r[0] != "合计"]
    assert len(entries) == LedgerEntry.objects.filter(period=budget).count()
    assert sum(r[2] for r in entries if r[1] == "支出") == spent
    assert sum(r[2] for r in entries if r[1] == "释放") == released
    totals = {r[1]: r[2] for r in rows if r[0] == "合计"}
    assert totals == {
        "预算注入": 1_000_000,
        "下单占用": spent + released,
        "释放": released,
        "支出": spent,
    }

    csv = op.get(f"/console/orders/budget/{budget.pk}/ledger.csv")
    assert csv.status_code == 200
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("时间,类型,金额（分）")
    assert op.get(f"/console/orders/budget/{budget.pk}/ledger.pdf").status_code == 404


def test_library_staff_and_suppliers_cannot_open_the_operator_pages(
    logged_in, hz_admin_user, budget
):
    client = logged_in(hz_admin_user)
    for path in (
        "/console/orders/rules/",
        "/console/orders/budget/",
        f"/console/orders/budget/{budget.pk}/",
        f"/console/orders/budget/{budget.pk}/ledger.xlsx",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post(f"/console/orders/budget/{budget.pk}/", {"amount": "1"}).status_code == 403
    assert LedgerEntry.objects.filter(kind="top_up").count() == 4  # the fixture's four slots
