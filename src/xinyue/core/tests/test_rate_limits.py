from __future__ import annotations

import pytest
from django.core.cache import cache


@pytest.fixture
def limits(settings):
    cache.clear()
    settings.XINYUE_API_RATE_ANONYMOUS = "3/min"
    settings.XINYUE_API_RATE_AUTHENTICATED = "5/min"
    yield settings
    cache.clear()


@pytest.mark.django_db
def test_anonymous_callers_are_limited_per_address(client, limits, zhejiang):
    statuses = [client.get("/api/v1/libraries/330100").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    refused = client.get("/api/v1/libraries/330100")
    assert refused.json()["code"] == "rate_limited"
    assert int(refused["Retry-After"]) >= 1
    other_address = client.get("/api/v1/libraries/330100", REMOTE_ADDR="10.0.0.9")
    assert other_address.status_code == 200


@pytest.mark.django_db
def test_credentials_get_their_own_larger_allowance(hz_key_client, client, limits, zhejiang):
    for _ in range(3):
        client.get("/api/v1/health")
    assert client.get("/api/v1/health").status_code == 429
    statuses = [hz_key_client.get("/api/v1/libraries/330100/staff").status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
