"""``Idempotency-Key`` on ``POST /api/v1/orders``: the answer is recorded in the placing
transaction (core/idempotency.py, ``record_in_transaction``), with no claim before the view and
no update after it; retries, duplicates and refusals answer as everywhere else in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from xinyue.catalog.models import Offer
from xinyue.core import clock
from xinyue.core.actors import Channel
from xinyue.core.idempotency import Claim
from xinyue.core.models import IdempotencyRecord
from xinyue.orders import services
from xinyue.orders.models import Order, ReaderQuota
from xinyue.orders.tests.conftest import ADDRESS, committed, make_reader
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.tokens import issue_reader_token

URL = "/api/v1/orders"


@pytest.fixture
def reader_client(reader) -> Client:
    _row, token = issue_reader_token(reader=reader, channel=Channel.WECHAT)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def post(client: Client, body: dict, key: str):
    with committed():
        return client.post(
            URL, body, content_type="application/json", headers={"Idempotency-Key": key}
        )


def _statements(captured) -> list[str]:
    """The statements run, an ``executemany`` ("N times: …") as its statement."""
    return [q["sql"].lstrip().split("times: ", 1)[-1] for q in captured.captured_queries]


def _writes(captured, table: str) -> list[str]:
    return [
        sql[:6] for sql in _statements(captured) if table in sql and not sql.startswith("SELECT")
    ]


@pytest.mark.django_db(transaction=True)
def test_the_answer_is_written_in_the_placing_transaction_and_replayed(
    reader_client, titles, budget
):
    body = {"title_ids": [titles[0].pk], "address": ADDRESS}
    with CaptureQueriesContext(connection) as captured:
        first = post(reader_client, body, "tap-1")
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "placed"
    sql = _statements(captured)
    # One write of the record, an INSERT between the placing transaction's BEGIN and COMMIT.
    assert _writes(captured, "core_idempotencyrecord") == ["INSERT"]
    insert = next(i for i, s in enumerate(sql) if s.startswith("INSERT INTO core_idempotency"))
    begin = max(i for i, s in enumerate(sql[:insert]) if s.startswith("BEGIN"))
    assert any(s.startswith('INSERT INTO "orders_order"') for s in sql[begin:insert])
    assert sql[insert:].index("COMMIT") < sql[insert:].index(
        next(s for s in sql[insert:] if "credit_creditorder" in s)
    )
    record = IdempotencyRecord.objects.get()
    assert (record.key, record.state, record.status_code, record.path) == (
        "tap-1",
        "done",
        201,
        URL,
    )
    assert bytes(record.response_body) == first.content

    with CaptureQueriesContext(connection) as captured:
        again = post(reader_client, body, "tap-1")
    assert again.status_code == 201
    assert again.content == first.content  # the first answer ("placed"), not the order as now
    assert again["Idempotent-Replayed"] == "true"
    assert len(captured.captured_queries) == 1  # the record's read: nothing else ran
    assert Order.objects.count() == 1
    assert ReaderQuota.objects.get().open_volumes == 1

    other = post(reader_client, {"title_ids": [titles[1].pk], "address": ADDRESS}, "tap-1")
    assert (other.status_code, other.json()["code"]) == (422, "idempotency_key_reused")
    assert Order.objects.count() == 1
    assert Offer.objects.get(title=titles[1]).stock == 5


@pytest.mark.django_db
def test_a_refused_order_is_replayed_as_refused(reader_client, titles, budget):
    Offer.objects.filter(title=titles[0]).update(stock=0)
    body = {"title_ids": [titles[0].pk], "address": ADDRESS}
    refused = post(reader_client, body, "sold-out")
    assert (refused.status_code, refused.json()["code"]) == (409, "title_unavailable")
    Offer.objects.filter(title=titles[0]).update(stock=5)  # stock is back; the key still says no
    again = post(reader_client, body, "sold-out")
    assert (again.status_code, again.content) == (409, refused.content)
    assert again["Idempotent-Replayed"] == "true"
    assert Order.objects.count() == 0
    assert Offer.objects.get(title=titles[0]).stock == 5
    assert IdempotencyRecord.objects.get().status_code == 409


@pytest.mark.django_db
def test_an_order_whose_record_expired_answers_with_the_order_and_places_nothing(
    reader_client, titles, budget, settings
):
    body = {"title_ids": [titles[0].pk], "address": ADDRESS}
    first = post(reader_client, body, "old-key")
    aged = clock.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS, minutes=1)
    IdempotencyRecord.objects.update(created_at=aged)
    again = post(reader_client, body, "old-key")
    assert again.status_code == 201
    assert "Idempotent-Replayed" not in again
    assert again.json()["number"] == first.json()["number"]
    assert Order.objects.count() == 1
    assert ReaderQuota.objects.get().open_volumes == 1
    record = IdempotencyRecord.objects.get()  # the expired record was taken over by this answer
    assert record.created_at > aged
    assert bytes(record.response_body) == again.content


def prepared_with_key(reader, titles, key: str):
    """An order checked by placing's first part (no write lock yet), as the group commit gets it."""
    return services._prepare(
        actor=reader_actor(reader).via(Channel.WECHAT),
        reader=reader,
        title_ids=[t.pk for t in titles],
        channel=Channel.WECHAT,
        delivery_kind="home",
        address=ADDRESS,
        address_uid=None,
        pickup_library=None,
        idempotency_key=key,
    )


def _claim(reader, key: str) -> Claim:
    now = clock.now()
    return Claim(f"auth:{reader.pk}", key, "POST", URL, "h" * 64, now, now - dt.timedelta(hours=1))


def _answer(order: Order) -> tuple[int, str, bytes]:
    return 201, "application/json", f'{{"number": "{order.number}"}}'.encode()


@pytest.mark.django_db
def test_a_duplicate_in_the_same_batch_gets_the_first_answer(zhejiang, titles, budget):
    """Two submissions with one key in one group-commit batch: one order and one record (the
    first's answer); the second finds that record after the commit and replays it."""
    reader = make_reader(1)
    waiting = []
    for _ in range(2):
        prepared = prepared_with_key(reader, titles[0:1], "double-tap")
        prepared.claim = _claim(reader, "double-tap")
        prepared.claim.render = _answer
        waiting.append(services._Waiting(prepared))
    services._apply_batch(waiting)
    (first, created), (second, again) = waiting[0].outcome(), waiting[1].outcome()
    assert (created, again) == (True, False)
    assert first.pk == second.pk
    assert Order.objects.count() == 1
    one, two = waiting[0].prepared.claim, waiting[1].prepared.claim
    assert one.response == _answer(first)
    assert two.response is None
    assert not two.recorded
    replay = two.recorded_answer()
    assert replay is not None
    assert (replay.status_code, replay.content) == (201, _answer(first)[2])
    assert replay["Idempotent-Replayed"] == "true"
    assert two.recorded  # the middleware writes nothing more for it
    assert IdempotencyRecord.objects.count() == 1
