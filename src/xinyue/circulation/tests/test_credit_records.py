"""The reader's credit record (API and page), a dispute answered by the library with a correction
sent to the provider, and the nightly reconciliation after a provider outage (faults injected
into the sandbox gateway over HTTP)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client

from xinyue.circulation.models import CreditDrift, CreditRecord, Loan
from xinyue.circulation.services import check_in, renew_loan
from xinyue.circulation.services.credit_sync import due_at
from xinyue.circulation.services.overdue import run_daily
from xinyue.circulation.services.reconciliation import reconcile
from xinyue.circulation.tests.conftest import work_outbox
from xinyue.core.models import AuditEntry
from xinyue.credit.models import CreditOrder
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.tokens import issue_reader_token as issue_token

pytestmark = pytest.mark.django_db


def bearer(reader) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {issue_token(reader=reader)[1]}")


def test_the_reader_sees_every_record_and_disputes_one(
    platform_loans, platform_reader, bob, hangzhou, hz_desk, client, operator_user
):
    first, second = platform_loans
    renew_loan(actor=reader_actor(platform_reader), loan=first)
    check_in(actor=hz_desk, library=hangzhou, barcode=second.item.barcode)
    work_outbox()
    api = bearer(platform_reader)
    listing = api.get("/api/v1/readers/me/credit-records")
    assert listing.status_code == 200, listing.content
    items = listing.json()["items"]
    assert [(row["kind"], row["loan_id"], row["state"]) for row in items] == [
        ("return", second.pk, "sent"),
        ("renew", first.pk, "sent"),
        ("borrow", second.pk, "sent"),
        ("borrow", first.pk, "sent"),
    ]
    assert items[1]["barcode"] == "XY-0000001"
    renew_row = items[1]["id"]
    # another reader sees none of it and cannot dispute it
    assert bearer(bob).get("/api/v1/readers/me/credit-records").json()["count"] == 0
    stranger = bearer(bob).post(
        f"/api/v1/readers/me/credit-records/{renew_row}/dispute",
        {"reason": "不是我"},
        content_type="application/json",
    )
    assert stranger.status_code == 404
    bad = api.post(
        f"/api/v1/readers/me/credit-records/{renew_row}/dispute",
        {"reason": " "},
        content_type="application/json",
    )
    assert (bad.status_code, list(bad.json()["detail"]["fields"])) == (422, ["reason"])
    assert CreditRecord.objects.get(pk=renew_row).dispute == ""
    disputed = api.post(
        f"/api/v1/readers/me/credit-records/{renew_row}/dispute",
        {"reason": "快递延误，我按时寄回了"},
        content_type="application/json",
    )
    assert disputed.status_code == 200, disputed.content
    assert disputed.json()["dispute"] == "open"
    again = api.post(
        f"/api/v1/readers/me/credit-records/{renew_row}/dispute",
        {"reason": "再说一次"},
        content_type="application/json",
    )
    assert (again.status_code, again.json()["code"]) == (409, "dispute_state")

    # the dispute reaches the library (the operator for platform loans) and is corrected there
    client.force_login(operator_user)
    page = client.get("/console/circulation/disputes/")
    assert "快递延误，我按时寄回了" in page.content.decode()
    loan = Loan.objects.get(pk=first.pk)
    later = loan.due_on + dt.timedelta(days=7)
    wrong = client.post(
        "/console/circulation/disputes/",
        {"record": renew_row, "decision": "correct", "answer": "核实", "due_on": "2020-01-01"},
    )
    assert "更正后的应还日期应晚于原应还日期" in wrong.content.decode()
    assert Loan.objects.get(pk=first.pk).due_on == loan.due_on
    done = client.post(
        "/console/circulation/disputes/",
        {
            "record": renew_row,
            "decision": "correct",
            "answer": "快递延误属实，应还日期顺延",
            "due_on": later.isoformat(),
        },
    )
    assert done.status_code == 302
    row = CreditRecord.objects.get(pk=renew_row)
    assert (row.dispute, row.dispute_answer) == ("corrected", "快递延误属实，应还日期顺延")
    assert Loan.objects.get(pk=first.pk).due_on == later
    assert (f"loan:{first.pk}:correction:{renew_row}", "sent") in work_outbox()
    credit = CreditOrder.objects.get()
    assert credit.due_at == due_at(later)
    assert SandboxOrder.objects.get().expiry_time == due_at(later)
    assert AuditEntry.objects.filter(action="credit_record.answered").count() == 1
    answered = api.get("/api/v1/readers/me/credit-records").json()["items"]
    assert any(r["dispute_answer"] == "快递延误属实，应还日期顺延" for r in answered)


def test_a_library_cannot_answer_another_librarys_dispute(
    platform_loans, platform_reader, hz_admin
):
    from xinyue.circulation.services import answer_dispute, dispute_record
    from xinyue.core.errors import PermissionDenied

    row = CreditRecord.objects.filter(kind="borrow").first()
    dispute_record(
        actor=reader_actor(platform_reader), reader=platform_reader, record_id=row.pk, reason="不对"
    )
    with pytest.raises(PermissionDenied):
        answer_dispute(actor=hz_admin, record_id=row.pk, correct=False, answer="不处理")
    assert CreditRecord.objects.get(pk=row.pk).dispute == "open"


def test_reconciliation_after_a_provider_outage_shows_drift_then_clears(
    platform_loans, hangzhou, hz_desk, client, operator_user
):
    client.force_login(operator_user)
    down = client.post(
        "/sandbox/zhima/control/faults",
        {"kind": "unavailable"},
        content_type="application/json",
    )
    assert down.status_code == 201
    for loan in platform_loans:
        check_in(actor=hz_desk, library=hangzhou, barcode=loan.item.barcode)
    work_outbox()
    credit = CreditOrder.objects.get()
    assert (credit.state, credit.pending_op) == ("borrowed", "complete")
    counts = reconcile()
    assert counts["drift"] == 1
    drift = CreditDrift.objects.get()
    assert (drift.ours, drift.provider) == ("borrowed", "")
    assert drift.note.startswith("provider unreachable") or "pending" in drift.note
    page = client.get("/console/circulation/drift/")
    assert drift.credit_reference in page.content.decode()

    # the provider is back: the pending completion finishes, the next night finds no drift
    assert client.delete("/sandbox/zhima/control/faults").status_code == 200
    from xinyue.credit.services.orders import retry_pending_operation

    assert retry_pending_operation(order_id=credit.pk) is None
    assert CreditOrder.objects.get().state == "returned"
    assert reconcile() == {"resent": 0, "checked": 0, "drift": 0}
    assert not CreditDrift.objects.exists()
    assert "没有发现差异" in client.get("/console/circulation/drift/").content.decode()


def test_reconciliation_shows_a_state_the_provider_changed(platform_loans, client, operator_user):
    """The provider marked the order overdue (its latest return time passed) while we still say
    borrowed: the query brings ours in step and the night's drift row says what changed."""
    first = platform_loans[0]
    run_daily(today=first.due_on + dt.timedelta(days=1))
    assert work_outbox()[-2:] == [
        (f"loan:{first.pk}:overdue", "sent"),
        (f"loan:{platform_loans[1].pk}:overdue", "sent"),
    ]
    credit = CreditOrder.objects.get()
    SandboxOrder.objects.filter(out_order_no=credit.out_order_no).update(use_state="restore")
    assert reconcile() == {"resent": 0, "checked": 1, "drift": 1}
    drift = CreditDrift.objects.get()
    assert (drift.ours, drift.provider) == ("borrowed", "returned")


def test_the_reader_page_lists_the_records_and_takes_a_dispute(
    client, platform_loans, platform_reader, hz_reader
):
    first = platform_loans[0]
    client.force_login(platform_reader.user)
    html = client.get("/credit-records/").content.decode()
    assert html.count('class="dispute-form"') == 2
    assert "XY-0000001" in html
    row = CreditRecord.objects.get(key=f"loan:{first.pk}:borrow")
    blank = client.post("/credit-records/", {"record": row.pk, "reason": "x"}, follow=True)
    assert "请填写 2–500 字的说明" in blank.content.decode()
    assert CreditRecord.objects.get(pk=row.pk).dispute == ""
    done = client.post("/credit-records/", {"record": row.pk, "reason": "这本书我没借过"})
    assert done.status_code == 302
    assert CreditRecord.objects.get(pk=row.pk).dispute_reason == "这本书我没借过"
    # another reader: the row does not exist for them
    client.force_login(hz_reader.user)
    assert client.post("/credit-records/", {"record": row.pk, "reason": "试试"}).status_code == 404
    assert "还没有报送给信用服务商的记录" in client.get("/credit-records/").content.decode()
