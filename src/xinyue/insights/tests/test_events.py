"""Usage events: buffered recording, batched writes, the events API, the search-term console."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from conftest import PASSWORD, bearer_client
from django.core.cache import cache

from xinyue.accounts.services import create_api_key
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.insights.buffer import EventBuffer
from xinyue.insights.models import Event
from xinyue.insights.selectors import popular_search_terms
from xinyue.insights.services import EVENTS, flush_events, record_event
from xinyue.suppliers.tests.factories import SupplierFactory

AT = dt.datetime(2026, 5, 4, 10, 30, tzinfo=clock.PLATFORM_TZ)


def rows(*fields: str) -> list[tuple]:
    return list(Event.objects.order_by("id").values_list(*fields))


# --- record_event and the buffer -------------------------------------------------------------


@pytest.mark.django_db
def test_record_event_is_buffered_until_flushed():
    record_event(
        type="search",
        channel="alipay",
        at=AT,
        reader_id=7,
        path="/search/",
        query="东野圭吾",
        result_count=12,
    )
    record_event(type="click", channel="pc", at=AT, title_id=3, path="/titles/3/")
    assert Event.objects.count() == 0
    assert len(EVENTS) == 2

    assert flush_events() == 2

    assert rows(
        "type", "channel", "at", "reader_id", "path", "query", "title_id", "result_count"
    ) == [
        ("search", "alipay", AT, 7, "/search/", "东野圭吾", None, 12),
        ("click", "pc", AT, None, "/titles/3/", "", 3, None),
    ]
    assert len(EVENTS) == 0
    assert flush_events() == 0


@pytest.mark.django_db
def test_unknown_type_is_a_programming_error_and_nothing_is_buffered():
    with pytest.raises(ValueError, match="unknown event type"):
        record_event(type="purchase", channel="pc")
    assert len(EVENTS) == 0


@pytest.mark.django_db
def test_long_values_are_cut_and_unknown_channels_become_api():
    record_event(type="page_view", channel="carrier-pigeon", at=AT, path="/x" * 400)
    flush_events()
    channel, path = rows("channel", "path")[0]
    assert channel == "api"
    assert len(path) == 300


@pytest.mark.django_db(transaction=True)
def test_a_full_batch_is_written_by_the_request_that_fills_it():
    """Outside a transaction (as in a web request) the 500th event writes all 500 at once."""
    for number in range(EVENTS.batch_size - 1):
        record_event(type="page_view", channel="pc", at=AT, path=f"/p/{number}")
    assert Event.objects.count() == 0
    record_event(type="page_view", channel="pc", at=AT, path="/last")
    assert Event.objects.count() == EVENTS.batch_size
    assert len(EVENTS) == 0


@pytest.mark.django_db
def test_inside_a_transaction_the_buffer_never_writes_on_its_own():
    """A rollback of somebody else's transaction must not take buffered events with it."""
    for _ in range(EVENTS.batch_size + 5):
        record_event(type="page_view", channel="pc", at=AT)
    assert Event.objects.count() == 0
    assert len(EVENTS) == EVENTS.batch_size + 5
    flush_events()
    assert Event.objects.count() == EVENTS.batch_size + 5


class Sink:
    def __init__(self, *, fail: int = 0) -> None:
        self.batches: list[list[int]] = []
        self.fail = fail
        self.written = threading.Event()

    def __call__(self, batch):
        if self.fail:
            self.fail -= 1
            raise OSError("database is locked")
        self.batches.append(list(batch))
        self.written.set()


def test_buffer_writes_by_size_in_batches():
    sink = Sink()
    buffer = EventBuffer(writer=sink, batch_size=3, max_age=3600, background=False)
    for item in range(7):
        buffer.add(item)
    assert sink.batches == [[0, 1, 2], [3, 4, 5]]
    assert len(buffer) == 1
    assert buffer.flush() == 1
    assert sink.batches[-1] == [6]


def test_buffer_writes_by_age_on_the_next_add():
    sink = Sink()
    buffer = EventBuffer(writer=sink, batch_size=1000, max_age=0, background=False)
    buffer.add("a")
    assert sink.batches == [["a"]]


def test_a_failed_write_keeps_the_events_for_the_next_flush():
    sink = Sink(fail=1)
    buffer = EventBuffer(writer=sink, batch_size=2, max_age=3600, background=False)
    buffer.add(1)
    buffer.add(2)  # the write fails: both are kept
    assert sink.batches == []
    assert len(buffer) == 2
    buffer.add(3)  # full again: all three go, in batch_size slices
    assert sink.batches == [[1, 2], [3]]
    assert len(buffer) == 0
    assert buffer.dropped == 0


def test_after_a_partial_write_only_the_rest_is_kept():
    written: list[list[int]] = []

    def second_call_fails(batch):
        if len(written) == 1:
            written.append([])
            raise OSError("connection lost")
        written.append(list(batch))

    buffer = EventBuffer(writer=second_call_fails, batch_size=2, max_age=3600, background=False)
    for item in range(5):
        buffer._items.append(item)
    assert buffer.flush() == 2
    assert written == [[0, 1], []]
    assert buffer._items == [2, 3, 4]


def test_when_writes_keep_failing_the_buffer_is_bounded():
    sink = Sink(fail=100)
    buffer = EventBuffer(writer=sink, batch_size=2, max_age=3600, max_pending=5, background=False)
    for item in range(10):
        buffer.add(item)
    assert len(buffer) == 5
    assert buffer.dropped == 5


def test_the_background_thread_flushes_an_idle_buffer():
    sink = Sink()
    buffer = EventBuffer(writer=sink, batch_size=1000, max_age=0.05, background=True)
    try:
        with buffer._lock:  # hold the lock so the add itself cannot flush by age
            buffer._items.append("idle")
            buffer._oldest = 0.0
        buffer._ensure_thread()
        assert sink.written.wait(timeout=30)
        assert sink.batches == [["idle"]]
        assert len(buffer) == 0
    finally:
        buffer.stop()


# --- the events API --------------------------------------------------------------------------


def event(**fields):
    return {"type": "page_view", "at": clock.now().isoformat(), "channel": "wechat", **fields}


@pytest.fixture
def platform_client(db):
    _key, token = create_api_key(actor=SYSTEM, name="Alipay mini-program", scope="platform")
    return bearer_client(token)


def post(client, body):
    return client.post("/api/v1/events", data=json.dumps(body), content_type="application/json")


@pytest.mark.django_db
def test_a_library_key_attributes_events_to_its_library(hz_key_client):
    assert post(hz_key_client, [event()]).status_code == 202
    assert rows("library_code", "reader_id") == [("330100", None)]


@pytest.mark.django_db
def test_a_reader_token_attributes_events_to_the_reader(db):
    from xinyue.readers.services.identity import register_reader
    from xinyue.readers.services.tokens import issue_reader_token

    reader = register_reader(
        id_number="330106199001010026", name="林晓雨", phone="13812345678", password=PASSWORD
    )
    _row, token = issue_reader_token(reader=reader)
    assert post(bearer_client(token), [event(type="click", title_id=5)]).status_code == 202
    assert rows("reader_id", "title_id") == [(reader.pk, 5)]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("item", "field", "message"),
    [
        ({"at": "2026-05-04T10:30:00"}, "1.at", "时间须带时区"),
        ({"at": "2020-01-01T10:30:00+08:00"}, "1.at", "时间超出可接受范围（过去 7 天内）"),
        ({"type": "search"}, "1.query", "搜索事件须带检索词"),
        ({"type": "click"}, "1.title_id", "点击事件须带书目"),
    ],
)
def test_a_bad_item_refuses_the_whole_batch_naming_it(platform_client, item, field, message):
    response = post(platform_client, [event(), event(**item)])
    assert response.status_code == 422
    assert response.json()["code"] == "invalid"
    assert response.json()["detail"]["fields"] == {field: message}
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_schema_errors_name_the_field(platform_client):
    response = post(platform_client, [event(type="purchase")])
    assert response.status_code == 422
    assert list(response.json()["detail"]["fields"]) == ["events.0.type"]
    assert Event.objects.count() == 0


@pytest.mark.django_db
def test_at_most_1000_events_per_batch(platform_client):
    assert post(platform_client, [event()] * 1000).status_code == 202
    assert Event.objects.count() == 1000
    response = post(platform_client, [event()] * 1001)
    assert response.status_code == 422
    assert response.json()["detail"]["fields"] == {"events": "每批最多 1000 条"}
    assert Event.objects.count() == 1000


@pytest.mark.django_db
def test_suppliers_and_strangers_cannot_report_events(client):
    supplier = SupplierFactory()
    _key, token = create_api_key(actor=SYSTEM, name="x", scope="supplier", supplier=supplier)
    assert post(bearer_client(token), [event()]).status_code == 403
    assert post(client, [event()]).status_code == 401
    assert post(bearer_client("xy_nope_nope"), [event()]).status_code == 401
    assert Event.objects.count() == 0


# --- what readers search for -----------------------------------------------------------------


def searches(*items: tuple[str, int, dt.datetime]) -> None:
    for n, (query, count, at) in enumerate(items):
        record_event(
            type="search", channel="pc", at=at, query=query, result_count=count, client=f"c{n}"
        )
    flush_events()


@pytest.fixture
def search_log(db):
    now = clock.now()
    searches(
        ("东野圭吾", 9, now),
        ("东野圭吾", 9, now),
        ("东野圭吾", 9, now - dt.timedelta(hours=1)),
        ("三体", 4, now),
        ("三体", 0, now),
        ("量子纠缠入门", 0, now),
        ("量子纠缠入门", 0, now),
        ("old term", 3, now - dt.timedelta(days=60)),
    )
    cache.clear()


@pytest.mark.django_db
def test_operator_sees_top_and_zero_result_terms(search_log, logged_in, operator_user):
    client = logged_in(operator_user)
    response = client.get("/console/insights/search-terms/")
    assert response.status_code == 200
    top = [(t.term, t.count, t.zero_results) for t in response.context["top_terms"]]
    assert top == [("东野圭吾", 3, 0), ("三体", 2, 1), ("量子纠缠入门", 2, 2)]
    zero = [(t.term, t.count) for t in response.context["zero_terms"]]
    assert zero == [("量子纠缠入门", 2), ("三体", 1)]
    assert response.context["totals"] == {"searches": 7, "zero_results": 3}
    html = response.content.decode()
    assert "量子纠缠入门" in html
    assert "检索词" in html


@pytest.mark.django_db
def test_the_period_can_be_chosen(search_log, logged_in, operator_user):
    start = (clock.today() - dt.timedelta(days=61)).isoformat()
    end = (clock.today() - dt.timedelta(days=59)).isoformat()
    response = logged_in(operator_user).get(
        "/console/insights/search-terms/", {"start": start, "end": end}
    )
    assert [t.term for t in response.context["top_terms"]] == ["old term"]
    bad = logged_in(operator_user).get(
        "/console/insights/search-terms/", {"start": end, "end": start}
    )
    assert bad.status_code == 422


@pytest.mark.django_db
def test_library_staff_cannot_see_search_terms(search_log, logged_in, hz_admin_user):
    assert logged_in(hz_admin_user).get("/console/insights/search-terms/").status_code == 403


@pytest.mark.django_db
def test_popular_terms_for_suggestions_leave_out_searches_that_found_nothing(search_log, settings):
    settings.XINYUE_HOT_SEARCH_MIN_CLIENTS = 1
    assert popular_search_terms() == ["东野圭吾", "三体"]
