"""PII typed into search (issue 7, item 8): ID numbers, phones and card numbers are masked before
they are stored in ``insights_event``, shown to the operator, or written to the access log; an
ISBN stays an ISBN."""

from __future__ import annotations

import pytest

from xinyue.core.testing import http_get, running_web_server
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events, ingest_events, record_event
from xinyue.readers.masking import looks_like_pii, redact_search_term

ID_NUMBER = "330106199001011234"
PHONE = "13812345678"


@pytest.mark.django_db
def test_searched_id_numbers_and_phones_are_stored_and_shown_masked(
    client, logged_in, operator_user
):
    client.get("/api/v1/catalog/search", {"q": ID_NUMBER})
    client.get("/search/", {"q": "138 1234 5678"})
    client.get("/api/v1/catalog/search", {"q": f"+86 {PHONE}"}, REMOTE_ADDR="203.0.113.9")
    client.get("/api/v1/catalog/search", {"q": "6222 0212 3456 7890 123"})
    flush_events()
    stored = sorted(Event.objects.filter(type="search").values_list("query", flat=True))
    assert stored == ["138****5678", "138****5678", "330***********1234", "622************0123"]

    html = logged_in(operator_user).get("/console/insights/search-terms/").content.decode()
    assert "330***********1234" in html
    assert "138****5678" in html
    for clear in (ID_NUMBER, PHONE, "1381234", "6222021234567890123"):
        assert clear not in html


@pytest.mark.django_db
def test_an_isbn_is_recorded_as_an_isbn(client):
    client.get("/api/v1/catalog/search", {"q": "9787536692930"})
    client.get("/api/v1/catalog/search", {"q": "7-5366-9293-5"})
    flush_events()
    stored = sorted(Event.objects.values_list("query", flat=True).filter(type="search"))
    assert all("*" not in term for term in stored)
    assert "9787536692930" in stored


@pytest.mark.django_db
def test_events_reported_by_channel_apps_are_masked_too(operator):
    import datetime as dt

    from xinyue.core import clock

    ingest_events(
        actor=operator,
        events=[
            {
                "type": "search",
                "at": clock.now() - dt.timedelta(minutes=1),
                "channel": "alipay",
                "query": f"借书 {ID_NUMBER}",
            }
        ],
    )
    record_event(type="search", channel="pc", query=PHONE, result_count=0)
    flush_events()
    assert sorted(Event.objects.values_list("query", flat=True)) == [
        "138****5678",
        "借书 330***********1234",
    ]


def test_masking_rules():
    assert redact_search_term("三体 2008") == "三体 2008"
    assert redact_search_term("978-7-5366-9293-0") == "978-7-5366-9293-0"
    assert redact_search_term("9787536692931") == "978******2931"  # not a valid ISBN
    assert redact_search_term("33010619900101123x") == "330***********123X"
    assert looks_like_pii("138****5678")
    assert looks_like_pii(PHONE)
    assert not looks_like_pii("9787536692930")
    assert not looks_like_pii("东野圭吾")


@pytest.mark.slow
def test_the_web_servers_access_log_masks_query_strings(tmp_path):
    with running_web_server(tmp_path, access_log=True) as server:
        http_get(f"{server.base_url}/api/v1/health?q={ID_NUMBER}", timeout=10)
        http_get(f"{server.base_url}/api/v1/health?q=138%201234%205678&page=2", timeout=10)
        http_get(f"{server.base_url}/api/v1/health?q=9787536692930", timeout=10)
        log = server.wait_for_log(
            "q=330***********1234 ", "q=138****5678&page=2 ", "q=9787536692930 "
        )
    assert "/api/v1/health?q=330***********1234" in log
    assert "/api/v1/health?q=138****5678&page=2" in log
    assert "/api/v1/health?q=9787536692930" in log
    for clear in (ID_NUMBER, "138%201234", "138 1234 5678"):
        assert clear not in log
