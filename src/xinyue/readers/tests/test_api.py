"""The readers API: register, token, me, consents, export, delete — masked PII everywhere."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from xinyue.core.models import AuditEntry
from xinyue.readers.models import Consent, Reader, ReaderToken
from xinyue.readers.tests.identities import ALICE, ALICE_ID, BOB


def post(client: Client, path: str, body: dict, **headers) -> object:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def token_for(client: Client, who: dict = ALICE) -> str:
    response = post(
        client, "/api/v1/auth/token", {"id_number": who["id_number"], "password": who["password"]}
    )
    assert response.status_code == 200, response.content
    return response.json()["token"]


@pytest.mark.django_db
class TestRegisterAndToken:
    def test_register_returns_masked_reader(self, client):
        response = post(client, "/api/v1/auth/register", ALICE)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["id_number"] == "330***********0026"
        assert body["name"] == "林**"
        assert body["phone"] == "138****5678"
        assert (body["gender"], body["birth_year"], body["region_code"]) == (
            "female",
            1990,
            "330106",
        )
        assert body["phone_verified"] is False
        assert body["phone_verification_required"] is False
        assert body["cards"] == []
        assert [(c["purpose"], c["granted"]) for c in body["consents"]] == [
            ("credit_check", False),
            ("share_borrowing", False),
            ("id_number", True),
        ]

    def test_register_bad_fields(self, client):
        response = post(
            client, "/api/v1/auth/register", {**ALICE, "id_number": "330106199001010027"}
        )
        assert response.status_code == 422
        assert response.json()["code"] == "invalid"
        assert response.json()["detail"]["fields"] == {"id_number": "身份证号校验位不正确，请核对"}
        assert Reader.objects.count() == 0

    def test_register_twice(self, client, alice):
        response = post(client, "/api/v1/auth/register", ALICE)
        assert response.status_code == 409
        assert response.json()["code"] == "id_number_taken"

    def test_probing_registered_numbers_is_throttled_per_address(self, client, alice, settings):
        settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP = 3
        for _ in range(3):
            assert post(client, "/api/v1/auth/register", ALICE).status_code == 409
        response = post(client, "/api/v1/auth/register", BOB)
        assert response.status_code == 429
        assert response.json()["code"] == "login_throttled"
        assert Reader.objects.count() == 1
        other = post(Client(REMOTE_ADDR="10.2.2.2"), "/api/v1/auth/register", BOB)
        assert other.status_code == 201

    def test_token_then_me(self, client, alice):
        token = token_for(client)
        assert token.startswith("xyr_")
        row = ReaderToken.objects.get(reader=alice)
        assert token not in row.secret_hash
        response = Client().get("/api/v1/readers/me", HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 200
        assert response.json()["id_number"] == "330***********0026"

    def test_wrong_password_401_then_throttled_429(self, client, alice):
        for _ in range(5):
            response = post(
                client, "/api/v1/auth/token", {"id_number": ALICE_ID, "password": "x-wrong-x"}
            )
            assert response.status_code == 401
            assert response.json()["code"] == "login_failed"
        response = post(
            client, "/api/v1/auth/token", {"id_number": ALICE_ID, "password": ALICE["password"]}
        )
        assert response.status_code == 429
        assert response.json()["code"] == "login_throttled"

    def test_revoke_token(self, client, alice):
        token = token_for(client)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        assert Client().delete("/api/v1/auth/token", **auth).status_code == 204
        assert Client().get("/api/v1/readers/me", **auth).status_code == 401

    def test_me_needs_a_reader(self, hz_key_client):
        response = hz_key_client.get("/api/v1/readers/me")
        assert response.status_code == 403
        assert response.json()["code"] == "not_a_reader"
        assert Client().get("/api/v1/readers/me").status_code == 401


@pytest.mark.django_db
class TestConsentsApi:
    def test_grant_and_withdraw(self, client, alice):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client)}"}
        response = post(
            Client(), "/api/v1/readers/me/consents", {"purpose": "credit_check"}, **auth
        )
        assert response.status_code == 201
        assert response.json()["granted"] is True
        response = Client().delete("/api/v1/readers/me/consents/credit_check", **auth)
        assert response.status_code == 200
        assert response.json()["granted"] is False
        assert response.json()["withdrawn_at"] is not None
        response = Client().delete("/api/v1/readers/me/consents/credit_check", **auth)
        assert response.status_code == 409
        assert response.json()["code"] == "consent_not_granted"
        assert list(
            Consent.objects.filter(reader=alice, purpose="credit_check").values_list(
                "ended_reason", flat=True
            )
        ) == ["withdrawn"]

    def test_texts_are_public(self):
        response = Client().get("/api/v1/consents/texts")
        assert response.status_code == 200
        assert sorted(t["purpose"] for t in response.json()) == [
            "credit_check",
            "id_number",
            "share_borrowing",
        ]


@pytest.mark.django_db
class TestExportAndDelete:
    def test_export_is_masked_and_audited(self, client, alice):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client)}"}
        response = Client().get("/api/v1/readers/me/export", **auth)
        assert response.status_code == 200
        body = response.json()
        assert body["format"] == "xinyue.reader-export/1"
        assert body["reader"]["id_number"] == "330***********0026"
        assert body["reader"]["personal_data_masked"] is True
        assert [c["purpose"] for c in body["consents"]] == ["id_number"]
        assert AuditEntry.objects.filter(action="reader.exported").count() == 1

    def test_delete_requires_the_password(self, client, alice):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client)}"}
        missing = Client().delete("/api/v1/readers/me", **auth)
        assert missing.status_code == 422
        wrong = Client().delete(
            "/api/v1/readers/me", '{"password": "guess-1234"}', "application/json", **auth
        )
        assert wrong.status_code == 422
        assert wrong.json()["code"] == "wrong_password"
        alice.refresh_from_db()
        assert alice.deleted_at is None
        assert alice.id_number_ct != ""

    def test_delete(self, client, alice):
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(client)}"}
        body = json.dumps({"password": ALICE["password"]})
        response = Client().delete("/api/v1/readers/me", body, "application/json", **auth)
        assert response.status_code == 204
        alice.refresh_from_db()
        assert alice.deleted_at is not None
        assert (alice.id_number_ct, alice.name_ct, alice.phone_ct, alice.id_number_index) == (
            "",
            "",
            "",
            None,
        )
        assert Client().get("/api/v1/readers/me", **auth).status_code == 401
        # The person may register again.
        assert post(Client(), "/api/v1/auth/register", ALICE).status_code == 201
