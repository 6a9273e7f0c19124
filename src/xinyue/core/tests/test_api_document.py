"""The OpenAPI document declares what the API really answers (the live check is
``scripts/api-contract``; these pin the rules that generate the document)."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from xinyue.credit.models import CreditAuthorization

pytestmark = pytest.mark.django_db

ERROR_REF = {"$ref": "#/components/schemas/ErrorOut"}
PUBLIC = [
    ("get", "/api/v1/health"),
    ("get", "/api/v1/libraries"),
    ("get", "/api/v1/libraries/{code}"),
    ("get", "/api/v1/consents/texts"),
    ("get", "/api/v1/credit/providers"),
    ("post", "/api/v1/auth/register"),
    ("post", "/api/v1/auth/token"),
]
OPTIONAL_CREDENTIALS = [
    ("get", "/api/v1/catalog/search"),
    ("get", "/api/v1/catalog/titles/{title_id}"),
    ("get", "/api/v1/catalog/categories"),
    ("get", "/api/v1/catalog/picks"),
    ("get", "/api/v1/notices"),
]


@pytest.fixture
def document(client) -> dict:
    return client.get("/api/v1/openapi.json").json()


def operations(document: dict):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield method, path, operation


def error_schema(operation: dict, status: int) -> dict:
    return operation["responses"][str(status)]["content"]["application/json"]["schema"]


def test_public_operations_are_not_secured(document):
    for method, path in PUBLIC:
        operation = document["paths"][path][method]
        assert "security" not in operation, path
        # only a failed log-in is 401 among them
        assert ("401" in operation["responses"]) == (path == "/api/v1/auth/token"), path
    for method, path in OPTIONAL_CREDENTIALS:
        operation = document["paths"][path][method]
        assert operation["security"] == [{}, {"BearerActor": []}, {"SessionActor": []}], path
        assert "401" not in operation["responses"], path


def test_every_operation_declares_the_errors_the_framework_gives(document):
    secured = 0
    for method, path, operation in operations(document):
        assert error_schema(operation, 429) == ERROR_REF, (method, path)
        if operation.get("security") and {} not in operation["security"]:
            secured += 1
            assert error_schema(operation, 401) == ERROR_REF, (method, path)
            assert "WWW-Authenticate" in operation["responses"]["401"]["headers"]
        if method == "post":
            key = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
            assert key == [
                {
                    "in": "header",
                    "name": "Idempotency-Key",
                    "required": False,
                    "description": key[0]["description"],
                    "schema": {"type": "string", "maxLength": 200},
                }
            ], path
            assert {"400", "409", "422"} <= set(operation["responses"]), (method, path)
        if "requestBody" in operation and path != "/api/v1/credit/notify/{provider}":
            for status in (400, 413, 422):
                assert status == 422 or error_schema(operation, status) == ERROR_REF, path
                assert str(status) in operation["responses"], (method, path, status)
    assert secured >= 40


def test_undeclared_failures_stay_out(document):
    # Nothing to refuse, nothing declared: no parameters and no body means no 422.
    texts = document["paths"]["/api/v1/consents/texts"]["get"]["responses"]
    assert sorted(texts) == ["200", "429"]
    whoami = document["paths"]["/api/v1/whoami"]["get"]["responses"]
    assert sorted(whoami) == ["200", "401", "429"]
    search = document["paths"]["/api/v1/catalog/search"]["get"]["responses"]
    assert sorted(search) == ["200", "414", "422", "429"]
    assert "content" not in search["414"]


def test_blank_strings_are_declared_invalid_where_they_are_refused(document, client):
    schemas = document["components"]["schemas"]
    register = schemas["RegisterIn"]["properties"]
    for field in ("id_number", "name", "phone", "password"):
        assert (register[field]["minLength"], register[field]["pattern"]) == (1, r"\S"), field
    assert set(schemas["RegisterIn"]["required"]) == {"id_number", "name", "phone", "password"}
    response = client.post(
        "/api/v1/auth/register",
        data=json.dumps({"id_number": " ", "name": "", "phone": "", "password": ""}),
        content_type="application/json",
    )
    assert response.status_code == 422
    assert set(response.json()["detail"]["fields"]) >= {"id_number", "name", "phone", "password"}


def test_consent_purpose_in_the_path_lists_the_purposes(document):
    operation = document["paths"]["/api/v1/readers/me/consents/{purpose}"]["delete"]
    (purpose,) = operation["parameters"]
    assert purpose["schema"]["enum"] == ["credit_check", "share_borrowing", "id_number"]


def test_a_body_that_is_not_an_object_is_refused(document, client):
    from xinyue.readers.services import register_reader
    from xinyue.readers.services.tokens import issue_reader_token

    reader = register_reader(
        id_number="330106199001010026",
        name="林晓雨",
        phone="13812345678",
        password="read-more-books-7",
        consents=["id_number", "credit_check"],
    )
    _row, token = issue_reader_token(reader=reader)
    for body in ("5", "[]", '"sandbox"'):
        response = client.post(
            "/api/v1/credit/authorizations",
            data=body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {token}",
        )
        assert response.status_code == 422, body
        assert response.json()["code"] == "invalid"
    assert CreditAuthorization.objects.count() == 0
    body = document["paths"]["/api/v1/credit/authorizations"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["$ref"].endswith("/AuthorizationIn")


@override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000)
def test_a_body_over_the_limit_is_413_in_the_error_shape(client):
    response = client.post(
        "/api/v1/auth/token",
        data=json.dumps({"id_number": "1" * 2000, "password": "x"}),
        content_type="application/json",
    )
    assert response.status_code == 413
    assert response.json() == {
        "code": "payload_too_large",
        "message": "the request body is too large",
        "detail": {},
    }
