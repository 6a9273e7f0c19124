"""What opening a credit order costs the worker, and that the savings keep every rule: the
sandbox looks at its fault table once per API call (a fault set through the control table still
applies), a notification that repeats what the order already says writes nothing (one that
moves the order still does; one under a stored notify id is rolled back), a server-side opening
is borrowing from the create's answer (no query after it), and the in-process transport skips
the environment only for the URLs it serves itself. The sandbox is reached in process, as the
worker reaches it."""

from __future__ import annotations

import datetime as dt
import secrets
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import TestCase
from django.test.utils import CaptureQueriesContext

from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.credit import conf, crypto, services
from xinyue.credit.models import CreditOrder, CreditOrderEvent, ProviderNotification
from xinyue.credit.providers import http
from xinyue.credit.providers.zhima import alipay_time
from xinyue.credit.sandbox.models import SandboxFault, SandboxNotification, SandboxOrder
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db

NOTIFY_URL = "/api/v1/credit/notify/sandbox"


@pytest.fixture(autouse=True)
def _in_process(settings) -> None:
    settings.CREDIT_SANDBOX_IN_PROCESS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # in process: no socket is used


@pytest.fixture
def admitted(reader):
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    answer = http.client().post(
        authorization.confirm_url,
        data={"decision": "approve", "score": "650"},
        allow_redirects=False,
    )
    assert answer.status_code in (200, 302), answer.text[:300]
    services.refresh_authorization(actor=SYSTEM, authorization=authorization)
    return reader


def open_order(reader, reference: str) -> CreditOrder:
    """Open it and run what its commit leaves (the sandbox's notification), as the worker does."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.open_credit_order(
            actor=reader_actor(reader),
            reader=reader,
            reference=reference,
            goods_name="三体（典藏版）全三册",
            deposit_fen=16800,
            due_at=clock.now() + dt.timedelta(days=30),
        )


def test_the_sandbox_reads_its_fault_table_once_per_call_and_a_set_fault_still_applies(admitted):
    with CaptureQueriesContext(connection) as queries:
        order = open_order(admitted, "order:XY20261201000001")
    assert (order.state, order.pending_op) == ("borrowed", "")
    fault_reads = [q["sql"] for q in queries if "sandbox_zhima_fault" in q["sql"]]
    assert len(fault_reads) == 1  # rent.create asks five times (unavailable … notification)

    SandboxFault.objects.create(
        kind=SandboxFault.Kind.UNAVAILABLE, method="zhima.merchant.order.rent.create", remaining=1
    )
    down = open_order(admitted, "order:XY20261201000002")
    assert (down.state, down.pending_op) == ("new", "start")
    assert "ProviderUnavailable" in down.last_error
    assert not SandboxFault.objects.exists()  # the counted fault was used up
    again = open_order(admitted, "order:XY20261201000002")
    assert (again.pk, again.state, again.pending_op) == (down.pk, "borrowed", "")


def resent(params: dict[str, str], **changes: str) -> dict[str, str]:
    """The provider telling it again under a new notify id (a new notification, not a retry)."""
    fields = {k: v for k, v in params.items() if k != "sign"}
    fields.update(notify_id=secrets.token_hex(16), notify_time=alipay_time(clock.now()), **changes)
    key = conf.private_key(conf.ensure_sandbox_keys()["gateway_private"])
    fields["sign"] = crypto.alipay_sign_notification(key, fields)
    return fields


def post(client, fields: dict[str, str]):
    return client.post(
        NOTIFY_URL, urlencode(fields), content_type="application/x-www-form-urlencoded"
    )


def test_a_notification_repeating_the_state_writes_nothing_and_a_new_state_is_applied(
    client, admitted
):
    order = open_order(admitted, "order:XY20261201000003")
    # The create's answer ("admitted", no deposit path) already said "borrow"; the sandbox's own
    # notification, delivered after it, repeats it.
    order.refresh_from_db()
    assert order.state == "borrowed"
    first = ProviderNotification.objects.get(kind="order")
    assert first.outcome == "unchanged"
    events = CreditOrderEvent.objects.filter(order=order).count()
    params = SandboxNotification.objects.get(params__notify_type="zm_rent_order").params

    response = post(client, resent(params))
    assert (response.status_code, response.content) == (200, b"success")
    again = ProviderNotification.objects.filter(kind="order").exclude(pk=first.pk).get()
    assert again.outcome == "unchanged"
    assert again.processed_at is not None
    stored = CreditOrder.objects.get(pk=order.pk)
    assert (stored.state, stored.updated_at, stored.synced_at) == (
        "borrowed",
        order.updated_at,
        order.synced_at,
    )
    assert CreditOrderEvent.objects.filter(order=order).count() == events

    response = post(client, resent(params, use_state="cancel"))
    assert response.content == b"success"
    assert ProviderNotification.objects.order_by("-id").first().outcome == "applied"
    assert CreditOrder.objects.get(pk=order.pk).state == "cancelled"
    assert CreditOrderEvent.objects.filter(order=order).count() == events + 1


def test_the_in_process_transport_reads_the_environment_only_for_urls_that_leave(monkeypatch):
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    session = http.client()
    inside = session.merge_environment_settings(
        conf.sandbox_base_url() + "/gateway.do", {}, None, None, None
    )
    assert inside["proxies"] == {}
    outside = session.merge_environment_settings(
        "https://openapi.alipay.com/gateway.do", {}, None, None, None
    )
    assert outside["proxies"].get("https") == "http://127.0.0.1:3128"


def test_a_duplicate_notify_id_saying_something_else_is_acknowledged_and_changes_nothing(
    client, admitted
):
    """A notification is applied, then stored under its unique (provider, notify id) in the same
    transaction: a second one under a stored notify id, validly signed but saying "cancel", is
    rolled back with everything it applied."""
    order = open_order(admitted, "order:XY20261201000004")
    params = SandboxNotification.objects.get(params__notify_type="zm_rent_order").params
    stored = ProviderNotification.objects.get(kind="order")
    assert stored.notify_id == params["notify_id"]
    before = CreditOrder.objects.get(pk=order.pk)
    events = list(CreditOrderEvent.objects.filter(order=order).values_list("id", "to_state"))
    fields = {k: v for k, v in params.items() if k != "sign"}
    fields.update(notify_time=alipay_time(clock.now()), use_state="cancel")
    key = conf.private_key(conf.ensure_sandbox_keys()["gateway_private"])
    fields["sign"] = crypto.alipay_sign_notification(key, fields)

    response = post(client, fields)
    assert (response.status_code, response.content) == (200, b"success")
    after = CreditOrder.objects.get(pk=order.pk)
    assert (after.state, after.updated_at, after.synced_at) == (
        "borrowed",
        before.updated_at,
        before.synced_at,
    )
    assert list(CreditOrderEvent.objects.filter(order=order).values_list("id", "to_state")) == (
        events
    )
    assert list(ProviderNotification.objects.values_list("pk", "outcome")) == [
        (stored.pk, stored.outcome)
    ]
    # The same state under a new notify id is a new notification, and is applied.
    assert post(client, resent(params, use_state="cancel")).content == b"success"
    assert CreditOrder.objects.get(pk=order.pk).state == "cancelled"


def test_a_server_side_opening_is_borrowing_from_the_create_answer(admitted):
    """Zhima's create answer for a reader who authorized before says "admitted" (no deposit
    path): the order is borrowing at once, in one provider call, with one event per change."""
    with CaptureQueriesContext(connection) as queries:
        order = open_order(admitted, "order:XY20261201000005")
    assert (order.state, order.pending_op, order.last_error) == ("borrowed", "", "")
    assert order.provider_order_no == SandboxOrder.objects.get().order_no
    assert list(
        CreditOrderEvent.objects.filter(order=order)
        .order_by("id")
        .values_list("from_state", "to_state")
    ) == [("", "new"), ("new", "borrowed")]
    # One call reached the gateway (the create; no query after it): one look at its fault table.
    assert len([q for q in queries if "sandbox_zhima_fault" in q["sql"]]) == 1
    assert ProviderNotification.objects.get(kind="order").outcome == "unchanged"
