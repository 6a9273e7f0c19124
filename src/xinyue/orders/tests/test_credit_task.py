"""The credit order is opened by a task after the order commits, not in the request: a provider
that is down leaves the order placed (nothing fails, nothing is released) and the task tries
again with back-off; the retry opens exactly one credit order at the provider. The outage is the
sandbox's own fault injection, asked for through its control endpoint."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from xinyue.accounts.services import create_api_key
from xinyue.catalog.models import Offer
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.testing import run_scheduled_tasks
from xinyue.credit.models import CreditOrder
from xinyue.credit.providers import http
from xinyue.credit.sandbox.models import SandboxOrder
from xinyue.orders import services
from xinyue.orders.models import Order, ReaderQuota
from xinyue.orders.tests.conftest import ADDRESS, committed
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.tokens import issue_reader_token

pytestmark = pytest.mark.django_db


def sandbox_fault(method: str, times: int) -> None:
    _key, token = create_api_key(actor=SYSTEM, name="sandbox control", scope="platform")
    answer = http.client().post(
        f"{settings.PUBLIC_BASE_URL}/sandbox/zhima/control/faults",
        json={"kind": "unavailable", "method": method, "times": times},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert answer.status_code < 300, answer.text


def placed_without_its_task(reader, title, *, actor):
    """One book ordered with the credit task held back: the test runs the task when it wants."""
    return services.place_order(
        actor=actor,
        reader=reader,
        title_ids=[title.pk],
        channel=Channel.PC,
        address=ADDRESS,
        open_credit=False,
    )


def test_a_provider_outage_leaves_the_order_placed_and_the_task_opens_it_once(
    reader, titles, budget
):
    _row, token = issue_reader_token(reader=reader, channel=Channel.ALIPAY)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    sandbox_fault("zhima.merchant.order.rent.create", times=1)
    stock = Offer.objects.get(title=titles[0]).stock
    with committed():
        response = api.post(
            "/api/v1/orders",
            {"title_ids": [titles[0].pk], "address": ADDRESS},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    number = response.json()["number"]
    order = Order.objects.get(number=number)
    credit = CreditOrder.objects.get()
    # The provider was down: the order waits (it holds its copy, quota and budget), the credit
    # order's opening is pending under its fixed provider key, and nothing was refused.
    assert (order.status, order.credit_reference) == ("placed", f"order:{number}")
    assert (credit.state, credit.pending_op) == ("new", "start")
    assert "ProviderUnavailable" in credit.last_error
    assert Offer.objects.get(title=titles[0]).stock == stock - 1
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 1
    shown = api.get(f"/api/v1/orders/{number}").json()
    assert (shown["status"], shown["credit_status"]) == ("placed", "opening")

    # The retries come due (the orders task and the credit app's own): one credit order opens.
    with committed():
        assert run_scheduled_tasks() >= 1
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert SandboxOrder.objects.count() == 1
    assert CreditOrder.objects.count() == 1
    assert api.get(f"/api/v1/orders/{number}").json()["credit_status"] == "open"


def test_the_task_gives_up_after_its_back_off_and_releases_everything(reader, titles, budget):
    """A provider down for all of the back-off: the order is cancelled with its reason."""
    order = placed_without_its_task(reader, titles[0], actor=SYSTEM)
    stock = Offer.objects.get(title=titles[0]).stock
    sandbox_fault("zhima.merchant.order.rent.create", times=100)
    last = services.CREDIT_BACKOFF.max_attempts - 1
    assert services.open_order_credit(order_id=order.pk, attempts=last - 1) == last
    assert services.open_order_credit(order_id=order.pk, attempts=last) is None
    order.refresh_from_db()
    assert (order.status, order.status_reason) == ("cancelled", "credit:unavailable")
    assert Offer.objects.get(title=titles[0]).stock == stock + 1
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 0
    assert SandboxOrder.objects.count() == 0


def test_an_order_cancelled_before_its_task_runs_never_reaches_the_provider(reader, titles, budget):
    """The reader cancels in the moment between placing and the task: the task finds the order
    closed and opens nothing; what the order held is back."""
    stock = Offer.objects.get(title=titles[0]).stock
    order = placed_without_its_task(reader, titles[0], actor=reader_actor(reader))
    services.cancel_order(actor=reader_actor(reader), order=order)
    assert services.open_order_credit(order_id=order.pk) is None
    order.refresh_from_db()
    assert (order.status, order.status_reason) == ("cancelled", "reader")
    assert SandboxOrder.objects.count() == 0
    assert CreditOrder.objects.count() == 0
    assert Offer.objects.get(title=titles[0]).stock == stock
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 0


def test_an_order_cancelled_after_its_credit_order_opened_cancels_it_at_the_provider(
    reader, titles, budget
):
    """Cancelling a confirmed order (nothing shipped yet) leaves no credit order open."""
    order = placed_without_its_task(reader, titles[0], actor=reader_actor(reader))
    assert services.open_order_credit(order_id=order.pk) is None
    order.refresh_from_db()
    assert order.status == "confirmed"
    assert CreditOrder.objects.get().state == CreditOrder.State.BORROWED
    services.cancel_order(actor=reader_actor(reader), order=order)
    assert CreditOrder.objects.get().state == CreditOrder.State.CANCELLED
    assert SandboxOrder.objects.get().use_state == "cancel"


@pytest.mark.django_db(transaction=True)  # real commits: the hook runs after one, as in production
def test_an_enqueue_that_fails_after_the_commit_loses_no_order(reader, titles, budget, monkeypatch):
    """The task queue refuses the write after the order committed (Huey's storage raising, as a
    locked or full queue file does): the reader still gets the placed order, nothing is released,
    and the minutely job enqueues it again once it has waited ten minutes — one credit order."""
    import datetime as dt

    from huey.contrib.djhuey import HUEY

    from xinyue.orders.tasks import expire_waiting_orders

    _row, token = issue_reader_token(reader=reader, channel=Channel.ALIPAY)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    stock = Offer.objects.get(title=titles[0]).stock

    def queue_down(*args, **kwargs):
        raise OSError("the task queue cannot be written")

    with monkeypatch.context() as patched:
        patched.setattr(HUEY.storage, "put_data", queue_down)  # the first write
        response = api.post(
            "/api/v1/orders",
            {"title_ids": [titles[0].pk], "address": ADDRESS},
            content_type="application/json",
        )
    assert response.status_code == 201, response.content
    order = Order.objects.get(number=response.json()["number"])
    assert (order.status, order.credit_reference) == ("placed", "")
    assert response.json()["credit_status"] == "opening"
    assert CreditOrder.objects.count() == 0
    assert Offer.objects.get(title=titles[0]).stock == stock - 1
    assert ReaderQuota.objects.get(reader=reader).open_volumes == 1

    # Within ten minutes the job leaves it alone (its task may still be on the way).
    expire_waiting_orders.call_local()
    assert CreditOrder.objects.count() == 0
    Order.objects.filter(pk=order.pk).update(placed_at=order.placed_at - dt.timedelta(minutes=11))
    expire_waiting_orders.call_local()
    order.refresh_from_db()
    assert (order.status, order.credit_reference) == ("confirmed", f"order:{order.number}")
    assert SandboxOrder.objects.count() == 1
    assert CreditOrder.objects.count() == 1
