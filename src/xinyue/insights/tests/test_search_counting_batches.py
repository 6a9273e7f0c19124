"""Searches are counted without a write per request: each is buffered with its once-per-searcher
claim, and a batch's claims are made in the shared counter with one statement when the batch is
written — so a searcher's repeat is dropped whether it falls in the same batch, a later batch, or
another process's batch, and the report counts exactly the searches that were written."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from xinyue.insights.buffer import EventBuffer
from xinyue.insights.models import Event
from xinyue.insights.services import EVENTS, flush_events, record_search_event, write_buffered


def search(term: str, client: str, *, page: int = 1) -> bool:
    return record_search_event(
        channel="pc",
        reader_id=None,
        client=client,
        path="/search/",
        query=term,
        result_count=3,
        page=page,
    )


def searches() -> list[tuple[str, str]]:
    return list(Event.objects.filter(type="search").order_by("id").values_list("query", "client"))


@pytest.mark.django_db
def test_recording_a_search_writes_nothing_until_the_batch():
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            search("三体", "c1")
        search("园艺", "c1")
        search("三体", "c2")
        assert not search("三体", "c3", page=2)  # a later page is never a new search
    assert len(queries) == 0
    assert len(EVENTS) == 5

    with CaptureQueriesContext(connection) as queries:
        flush_events()
    claims = [q for q in queries if "core_sharedcounter" in q["sql"]]
    assert len(claims) == 1  # every claim of the batch in one statement
    assert searches() == [("三体", "c1"), ("园艺", "c1"), ("三体", "c2")]


@pytest.mark.django_db
def test_a_repeat_in_a_later_batch_or_another_process_is_dropped(monkeypatch):
    from xinyue.insights import services

    search("三体", "c1")
    flush_events()
    search("三体", "c1")  # this process, next batch
    flush_events()
    # Another web process: its own buffer, its own batches, the same shared claims.
    other_process = EventBuffer(writer=write_buffered, background=False)
    monkeypatch.setattr(services, "EVENTS", other_process)
    search("三体", "c1")
    search("三体", "c9")
    assert other_process.flush() == 2
    assert searches() == [("三体", "c1"), ("三体", "c9")]
