"""API rate limits (issue 7, item 5): per client address for anonymous callers (on every
operation, public catalog reads included), per credential otherwise, counted in shared
counters in the database (``core.counters``) so that every web process sees the same counts."""

from __future__ import annotations

import pytest
from django.db import connection

from xinyue.core.clients import client_address


@pytest.fixture
def limits(settings):
    settings.XINYUE_API_RATE_ANONYMOUS = "3/min"
    settings.XINYUE_API_RATE_AUTHENTICATED = "5/min"
    return settings


SEARCH = "/api/v1/catalog/search?q=%E4%B8%89%E4%BD%93"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [SEARCH, "/api/v1/libraries/330100", "/api/v1/health"])
def test_one_address_exhausting_the_limit_leaves_other_addresses_served(client, limits, path):
    statuses = [client.get(path, REMOTE_ADDR="203.0.113.7").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get(path, REMOTE_ADDR="203.0.113.7")
    assert refused.json()["code"] == "rate_limited"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert client.get(path, REMOTE_ADDR="203.0.113.8").status_code == 200
    assert client.get(path, REMOTE_ADDR="2001:db8::1").status_code == 200


@pytest.mark.django_db
def test_counters_live_in_the_shared_database_table(client, limits):
    for _ in range(2):
        client.get(SEARCH, REMOTE_ADDR="203.0.113.7")
    with connection.cursor() as cursor:
        cursor.execute('SELECT "key", "count" FROM core_sharedcounter WHERE "key" LIKE \'rl:%%\'')
        rows = cursor.fetchall()
    assert len(rows) == 1
    assert rows[0][1] == 2
    assert "203.0.113.7" not in rows[0][0]  # a keyed hash, never the address


@pytest.mark.django_db
def test_a_forged_forwarded_for_does_not_escape_the_limit(client, limits):
    statuses = [
        client.get(
            SEARCH, REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}"
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_address_it_saw_counts(client, limits):
    limits.XINYUE_TRUSTED_PROXY_COUNT = 1
    proxy = "10.1.1.1"
    # The client prepends a lie; the proxy appends what it saw: only the last entry is trusted.
    statuses = [
        client.get(
            SEARCH, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}, 203.0.113.7"
        ).status_code
        for i in range(4)
    ]
    assert statuses == [200, 200, 200, 429]
    other = client.get(SEARCH, REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert other.status_code == 200


def test_client_address_trusts_only_the_configured_number_of_proxies(rf, settings):
    request = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8, 9.9.9.9")
    settings.XINYUE_TRUSTED_PROXY_COUNT = 0
    assert client_address(request) == "10.1.1.1"
    settings.XINYUE_TRUSTED_PROXY_COUNT = 2
    assert client_address(request) == "5.6.7.8"
    settings.XINYUE_TRUSTED_PROXY_COUNT = 5
    assert client_address(request) == "1.2.3.4"
    garbage = rf.get("/", REMOTE_ADDR="10.1.1.1", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_address(garbage) == "10.1.1.1"


@pytest.mark.django_db
def test_each_credential_gets_its_own_larger_allowance(hz_key_client, client, limits):
    for _ in range(3):
        client.get("/api/v1/health")
    assert client.get("/api/v1/health").status_code == 429
    statuses = [hz_key_client.get("/api/v1/libraries/330100/staff").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
