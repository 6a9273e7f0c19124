"""Search terms reported by channel apps are normalised like the portal's (the search engine's
``normalize_query``), so the report counts one term however it was typed."""

from __future__ import annotations

import json

import pytest
from conftest import bearer_client

from xinyue.accounts.services import create_api_key
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.insights.models import Event


def event(**fields):
    return {"type": "page_view", "at": clock.now().isoformat(), "channel": "wechat", **fields}


@pytest.fixture
def platform_client(db):
    _key, token = create_api_key(actor=SYSTEM, name="Alipay mini-program", scope="platform")
    return bearer_client(token)


def post(client, body):
    return client.post("/api/v1/events", data=json.dumps(body), content_type="application/json")


def rows(*fields: str) -> list[tuple]:
    return list(Event.objects.order_by("id").values_list(*fields))


@pytest.mark.django_db
def test_a_batch_is_written_at_once_with_normalised_search_terms(platform_client):
    at = clock.now().replace(microsecond=0)
    response = post(
        platform_client,
        [
            event(at=at.isoformat(), path="/pages/home"),
            event(at=at.isoformat(), type="search", query="  Python　编程  ", result_count=4),
            event(at=at.isoformat(), type="click", title_id=42, channel="alipay"),
        ],
    )
    assert response.status_code == 202
    assert response.json() == {"accepted": 3}
    assert rows("type", "channel", "at", "path", "query", "title_id", "result_count") == [
        ("page_view", "wechat", at, "/pages/home", "", None, None),
        ("search", "wechat", at, "", "python 编程", None, 4),
        ("click", "alipay", at, "", "", 42, None),
    ]
