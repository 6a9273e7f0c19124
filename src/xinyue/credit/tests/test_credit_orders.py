"""Credit orders through the sandbox over HTTP: open, renew, return, charge (and a failed
deduction retried), cancel; a timeout followed by a query never opens a second order."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.credit import services
from xinyue.credit.errors import ConsentRequired, CreditOrderState, NotAdmitted
from xinyue.credit.models import CreditOrder, CreditOrderEvent
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.credit.tests.conftest import make_reader
from xinyue.readers.services.consents import withdraw_consent
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db(transaction=True)


def admitted(live, login="borrower", score=650, faults=()):
    reader = make_reader()
    live.control("users", {"login": login, "score": score, "faults": list(faults)})
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    live.confirm(authorization.confirm_url, "approve", score, login=login)
    authorization.refresh_from_db()
    assert authorization.status == "admitted"
    return reader


def open_order(reader, reference="order:XY20260312000001:1", **extra):
    return services.open_credit_order(
        actor=reader_actor(reader),
        reader=reader,
        reference=reference,
        goods_name="三体（典藏版）全三册",
        deposit_fen=16800,
        due_at=clock.now() + dt.timedelta(days=30),
        **extra,
    )


def test_open_renew_and_return(live):
    reader = admitted(live)
    order = open_order(reader)
    assert order.state == "borrowed"
    assert order.pending_op == ""
    assert order.provider_order_no.startswith("ZMO")
    sandbox = SandboxOrder.objects.get()
    assert (sandbox.out_order_no, sandbox.deposit_fen, sandbox.goods_name) == (
        order.out_order_no,
        16800,
        "三体（典藏版）全三册"[:14],
    )
    assert open_order(reader).pk == order.pk  # the same reference: the same order
    assert SandboxOrder.objects.count() == 1

    later = order.due_at + dt.timedelta(days=15)
    order = services.extend_credit_order(actor=reader_actor(reader), order=order, due_at=later)
    assert order.due_at == later.replace(microsecond=0)
    assert SandboxOrder.objects.get().expiry_time == later.replace(microsecond=0)

    order = services.complete_credit_order(actor=SYSTEM, order=order)
    assert order.state == "returned"
    assert order.charged_fen == 0
    sandbox.refresh_from_db()
    assert (sandbox.use_state, sandbox.pay_amount_type, sandbox.pay_status) == (
        "restore",
        "RENT",
        "PAY_SUCCESS",
    )
    assert list(CreditOrderEvent.objects.values_list("to_state", flat=True)) == [
        "new",
        "borrowed",
        "returned",
    ]


def test_a_lost_book_is_charged_and_a_failed_deduction_retried_without_double_charge(live):
    reader = admitted(live, login="loser", faults=["failed_deduction"])
    order = open_order(reader)
    order = services.complete_credit_order(
        actor=SYSTEM, order=order, charge_fen=16800, reason="LOST"
    )
    assert order.state == "charge_failed"
    assert order.charged_fen == 0
    order = services.complete_credit_order(actor=SYSTEM, order=order)
    assert order.state == "charged"
    assert order.charged_fen == 16800
    sandbox = SandboxOrder.objects.get()
    assert (sandbox.pay_status, sandbox.pay_amount_fen, sandbox.deduction_attempts) == (
        "PAY_SUCCESS",
        16800,
        2,
    )
    with pytest.raises(CreditOrderState):
        services.complete_credit_order(actor=SYSTEM, order=order)
    assert SandboxOrder.objects.get().deduction_attempts == 2
    assert AuditEntry.objects.filter(action="credit.deduction").count() == 2


def test_a_reader_cannot_charge_themselves_and_charges_stay_under_the_cap(live):
    from xinyue.core.errors import InvalidInput, PermissionDenied

    reader = admitted(live)
    order = open_order(reader)
    with pytest.raises(PermissionDenied):
        services.complete_credit_order(
            actor=reader_actor(reader), order=order, charge_fen=100, reason="LOST"
        )
    with pytest.raises(InvalidInput):
        services.complete_credit_order(actor=SYSTEM, order=order, charge_fen=16801, reason="LOST")
    order.refresh_from_db()
    assert (order.state, order.pending_op) == ("borrowed", "")
    assert SandboxOrder.objects.get().use_state == "borrow"


def test_a_timeout_then_a_query_never_creates_a_second_order(live, settings):
    reader = admitted(live, login="slow", faults=["timeout"])
    settings.CREDIT_HTTP_TIMEOUT_SECONDS = 0.3
    order = open_order(reader)
    assert order.state == "borrowed"  # learned from the query after the timeout
    assert order.pending_op == ""
    assert SandboxOrder.objects.count() == 1
    assert CreditOrder.objects.count() == 1


def test_an_outage_leaves_the_operation_pending_for_the_worker(live):
    reader = admitted(live)
    order = open_order(reader)
    live.control(
        "faults",
        {"kind": "unavailable", "method": "zhima.merchant.order.rent.complete", "times": 1},
    )
    order = services.complete_credit_order(actor=SYSTEM, order=order)
    assert (order.state, order.pending_op) == ("borrowed", "complete")
    assert "ProviderUnavailable" in order.last_error
    from xinyue.credit.services.orders import retry_pending_operation

    assert retry_pending_operation(order_id=order.pk) is None
    order.refresh_from_db()
    assert (order.state, order.pending_op, order.last_error) == ("returned", "", "")


def test_cancel_before_the_book_left(live):
    reader = admitted(live)
    order = open_order(reader)
    order = services.cancel_credit_order(actor=SYSTEM, order=order, reason="未发货")
    assert order.state == "cancelled"
    assert SandboxOrder.objects.get().use_state == "cancel"
    with pytest.raises(CreditOrderState):
        services.complete_credit_order(actor=SYSTEM, order=order)


def test_a_reader_confirms_on_the_page_when_asked(live):
    reader = admitted(live)
    order = open_order(reader, confirm_by_reader=True)
    assert order.state == "pending_confirm"
    assert order.confirm_url.startswith(f"{live.url}/sandbox/zhima/gateway.do?")
    live.confirm(order.confirm_url, "approve", login="borrower")
    order.refresh_from_db()
    assert order.state == "borrowed"  # through the signed zm_rent_order notification
    assert order.provider_order_no == SandboxOrder.objects.get().order_no


def test_no_order_without_consents_or_admittance(live):
    reader = admitted(live)
    withdraw_consent(actor=reader_actor(reader), reader=reader, purpose="share_borrowing")
    with pytest.raises(ConsentRequired):
        open_order(reader)
    refused = make_reader("wang")
    authorization = services.start_authorization(
        actor=reader_actor(refused), reader=refused, provider="sandbox"
    )
    live.confirm(authorization.confirm_url, "approve", 549)
    with pytest.raises(NotAdmitted):
        open_order(refused, reference="order:other")
    assert CreditOrder.objects.count() == 0
    assert SandboxOrder.objects.count() == 0


def test_nightly_reconciliation_reads_the_providers_state(live):
    from xinyue.credit.services.orders import reconcile_credit_orders

    reader = admitted(live)
    order = open_order(reader)
    # At the provider the order ran past its latest return time (Zhima's clock, not ours).
    SandboxOrder.objects.update(expiry_time=clock.now() - dt.timedelta(hours=1))
    assert reconcile_credit_orders() == {"finished": 0, "synced": 1, "failed": 0}
    order.refresh_from_db()
    assert order.state == "overdue"


def test_lost_notifications_are_caught_up_by_the_job(live):
    from xinyue.credit.models import CreditAuthorization
    from xinyue.credit.services.authorizations import reconcile_pending_authorizations

    reader = make_reader()
    live.control("users", {"login": "lost", "score": 600, "faults": ["no_notify"]})
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    live.confirm(authorization.confirm_url, "approve", 600, login="lost")
    assert reconcile_pending_authorizations() == 0  # too fresh: the notification may still come
    CreditAuthorization.objects.update(created_at=clock.now() - dt.timedelta(minutes=5))
    assert reconcile_pending_authorizations() == 1
    authorization.refresh_from_db()
    assert (authorization.status, authorization.decided_via) == ("admitted", "query")


def test_only_staff_of_a_library_where_the_reader_holds_a_card_act_on_the_order(
    live, hangzhou, hz_desk, nb_admin
):
    from xinyue.cards.services.issuing import issue_deposit_card
    from xinyue.core.errors import PermissionDenied

    reader = admitted(live)
    order = open_order(reader)
    issue_deposit_card(actor=hz_desk, reader=reader, library=hangzhou, deposit_fen=10000)
    events_before = CreditOrderEvent.objects.count()
    later = order.due_at + dt.timedelta(days=15)

    # Ningbo's admin: the reader has no card in Ningbo, so neither renewal, charge nor cancel.
    with pytest.raises(PermissionDenied) as refused:
        services.extend_credit_order(actor=nb_admin, order=order, due_at=later)
    assert refused.value.code == "forbidden"
    with pytest.raises(PermissionDenied):
        services.complete_credit_order(actor=nb_admin, order=order, charge_fen=500)
    with pytest.raises(PermissionDenied):
        services.cancel_credit_order(actor=nb_admin, order=order)
    order.refresh_from_db()
    assert (order.state, order.charged_fen) == ("borrowed", 0)
    assert CreditOrderEvent.objects.count() == events_before

    # A reader never charges, even their own order; Hangzhou's desk (the reader's card) may.
    with pytest.raises(PermissionDenied):
        services.complete_credit_order(actor=reader_actor(reader), order=order, charge_fen=500)
    order = services.extend_credit_order(actor=hz_desk, order=order, due_at=later)
    assert order.due_at == later.replace(microsecond=0)
