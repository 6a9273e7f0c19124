from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_health_reports_database(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "writable": True}


@pytest.fixture
def read_only_database(transactional_db):
    """The database refuses writes for this connection, as a read-only file or a standby does
    (a transactional test: PostgreSQL applies the setting to the next transaction)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = ON")
        else:
            cursor.execute("SET default_transaction_read_only = on")
    yield
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA query_only = OFF")
        else:
            cursor.execute("SET default_transaction_read_only = off")


def test_health_is_503_with_retry_after_when_the_database_cannot_be_written(
    client, read_only_database
):
    response = client.get("/api/v1/health")
    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert response["Retry-After"] == "10"
    assert response.json() == {"status": "degraded", "database": "read_only", "writable": False}


@pytest.mark.django_db
def test_openapi_document_lists_the_operations(client):
    doc = client.get("/api/v1/openapi.json").json()
    assert doc["info"]["title"] == "信阅 API"
    for path in (
        "/api/v1/health",
        "/api/v1/libraries",
        "/api/v1/libraries/{code}",
        "/api/v1/libraries/{code}/webhooks",
    ):
        assert path in doc["paths"]
    assert "BearerActor" in doc["components"]["securitySchemes"]


@pytest.mark.django_db
def test_docs_page_is_served(client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()


@pytest.mark.django_db
def test_errors_have_one_shape(client, hz_key_client):
    missing = client.get("/api/v1/libraries/999999")
    assert missing.status_code == 404
    assert missing.json() == {
        "code": "library_not_found",
        "message": "找不到该成员馆",
        "detail": {"code": "999999"},
    }
    unauthenticated = client.get("/api/v1/whoami")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["code"] == "unauthenticated"
    invalid = hz_key_client.post(
        "/api/v1/libraries/330100/webhooks", {"event_types": "x"}, content_type="application/json"
    )
    assert invalid.status_code == 422
    body = invalid.json()
    assert body["code"] == "invalid"
    assert set(body["detail"]["fields"]) == {"url", "event_types"}


@pytest.mark.django_db
def test_json_keeps_chinese_characters(client):
    response = client.get("/api/v1/libraries/330000")
    assert "浙江图书馆".encode() in response.content


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy(client):
    response = client.get("/")
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Frame-Options"] == "DENY"
