"""What every request pays for is decided per request (docs/decisions.md, "The request stack's
cost"): the language and message middlewares do only the work a request needs, and nothing a
request did not ask for is stored — while CSRF, the security headers and the rate limit stay."""

from __future__ import annotations

import pytest
from conftest import bearer_client
from django.contrib.sessions.models import Session
from django.test import Client

from xinyue.catalog.tests.portal_data import library_shelf, new_reader, reader_token
from xinyue.core.models import SharedCounter

pytestmark = pytest.mark.django_db


def test_a_bearer_api_search_stores_no_session_and_sets_no_cookie(settings):
    library_shelf()
    settings.XINYUE_API_RATE_AUTHENTICATED = (
        "30/min"  # under 40: counted exactly: one write per hit
    )
    client = bearer_client(reader_token(new_reader()))

    response = client.get("/api/v1/catalog/search", {"q": "python"})

    assert response.status_code == 200
    assert [item["title"] for item in response.json()["items"]] == ["Python编程"]
    assert response.cookies == {}
    assert Session.objects.count() == 0
    # Still the API's headers and still counted by the rate limit.
    assert response["Content-Language"] == "zh-hans"
    assert "Accept-Language" in response["Vary"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response
    assert [c.count for c in SharedCounter.objects.filter(key__startswith="rl:c:")] == [1]


def test_an_anonymous_api_call_sets_no_cookie_and_answers_in_the_asked_language():
    response = Client().get("/api/v1/libraries/999999", HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 404
    assert response.cookies == {}
    assert Session.objects.count() == 0
    assert response["Content-Language"] == "en"
    chinese = Client().get("/api/v1/libraries/999999")
    assert chinese["Content-Language"] == "zh-hans"
    assert chinese.json()["message"] != response.json()["message"]


def test_the_language_cookie_still_wins_on_pages():
    client = Client()
    client.cookies["django_language"] = "en"

    response = client.get("/search/", {"q": "python"})

    assert response.status_code == 200
    assert response["Content-Language"] == "en"
    assert '<html lang="en"' in response.content.decode()


def test_a_message_added_by_a_page_is_shown_on_the_next_page():
    client = Client()

    response = client.post("/shelf/add/", {"title_id": "999999"}, follow=True)

    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["找不到该书目"]
    # Shown once: the storage was written, then emptied by the page that showed it.
    again = client.get("/shelf/")
    assert "找不到该书目" not in again.content.decode()


def test_a_cookie_authenticated_post_without_csrf_still_fails():
    reader = new_reader()
    client = Client(enforce_csrf_checks=True)
    client.force_login(reader.user)
    before = Session.objects.count()

    response = client.post("/api/v1/bookshelf", {"title_id": 1}, content_type="application/json")

    assert response.status_code == 403
    assert Session.objects.count() == before
