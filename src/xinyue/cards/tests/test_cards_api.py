"""The cards API (reader token) and the desk API (a library's key): shapes, refusals, scoping."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import Client

from xinyue.accounts.services import create_api_key
from xinyue.cards.models import Card, CardLinkRequest, ManualReview
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.readers.services.tokens import issue_reader_token
from xinyue.readers.tests.identities import ALICE, ALICE_ID

pytestmark = pytest.mark.django_db


def post(client: Client, path: str, body: dict, **headers) -> object:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.fixture
def reader_client(alice) -> Client:
    _row, token = issue_reader_token(reader=alice)
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def nb_key_client(ningbo) -> Client:
    _key, token = create_api_key(
        actor=SYSTEM, name="Ningbo ILS", scope="library", library=ningbo, role="admin"
    )
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


def test_refused_reader_gets_the_reason_and_the_alternatives(reader_client, hangzhou):
    response = post(reader_client, "/api/v1/cards", {"library_code": "330100"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "not_admitted",
        "message": "尚未完成信用授权，或授权结果已过期",
        "detail": {
            "reason": "not_authorized",
            "provider": "",
            "threshold": None,
            "alternatives": ["authorize", "link_card", "manual_review", "deposit_card"],
        },
    }
    eligibility = reader_client.get("/api/v1/cards/eligibility?library_code=330100").json()
    assert (eligibility["eligible"], eligibility["reason_code"], eligibility["library_code"]) == (
        False,
        "not_authorized",
        "330100",
    )
    assert [a["code"] for a in eligibility["alternatives"]] == [
        "authorize",
        "link_card",
        "manual_review",
        "deposit_card",
    ]
    assert Card.objects.count() == 0


def test_review_then_card_through_the_api(reader_client, hz_key_client, nb_key_client, hangzhou):
    asked = post(
        reader_client, "/api/v1/cards/reviews", {"library_code": "330100", "message": "学生"}
    )
    assert asked.status_code == 201, asked.content
    review_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"

    queue = hz_key_client.get("/api/v1/desk/reviews").json()
    assert [(r["id"], r["reader"]["name"], r["reader"]["id_number"]) for r in queue] == [
        (review_id, "林**", "330***********0026")
    ]
    assert nb_key_client.get("/api/v1/desk/reviews").json() == []
    denied = post(nb_key_client, f"/api/v1/desk/reviews/{review_id}/approve", {})
    assert denied.status_code == 404
    approved = post(hz_key_client, f"/api/v1/desk/reviews/{review_id}/approve", {"note": "OK"})
    assert approved.status_code == 200, approved.content
    assert approved.json()["status"] == "approved"

    response = post(
        reader_client, "/api/v1/cards", {"library_code": "330100"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert response.status_code == 201, response.content
    card = response.json()
    assert {k: card[k] for k in ("number", "library_code", "kind", "deposit_fen", "status")} == {
        "number": "33010000000001",
        "library_code": "330100",
        "kind": "credit",
        "deposit_fen": 0,
        "status": "active",
    }
    assert card["service_active"] is True
    # a retry with the same key replays the answer; no second card
    again = post(
        reader_client, "/api/v1/cards", {"library_code": "330100"}, HTTP_IDEMPOTENCY_KEY="k-1"
    )
    assert (again.status_code, again.json()) == (201, card)
    assert Card.objects.count() == 1
    listed = reader_client.get("/api/v1/cards").json()
    assert [c["number"] for c in listed] == ["33010000000001"]
    held = post(reader_client, "/api/v1/cards", {"library_code": "330100"})
    assert (held.status_code, held.json()["code"]) == (409, "card_already_held")


def test_link_through_the_api_and_the_desk_approves(reader_client, hz_key_client, hangzhou):
    response = post(
        reader_client, "/api/v1/cards/link", {"library_code": "330100", "card_number": "HZ42"}
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["status"], body["card"]) == ("pending", None)
    queue = hz_key_client.get("/api/v1/desk/link-requests").json()
    assert [(q["id"], q["card_number"], q["reader"]["name"]) for q in queue] == [
        (body["request_id"], "HZ42", "林**")
    ]
    approved = post(hz_key_client, f"/api/v1/desk/link-requests/{body['request_id']}/approve", {})
    assert approved.status_code == 200, approved.content
    assert (approved.json()["kind"], approved.json()["service_active"]) == ("existing", True)
    again = post(
        reader_client, "/api/v1/cards/link", {"library_code": "330100", "card_number": "HZ42"}
    )
    assert (again.status_code, again.json()["status"]) == (201, "activated")


def test_bad_input_names_the_field(reader_client, zhejiang):
    unknown = post(reader_client, "/api/v1/cards", {"library_code": "999999"})
    assert unknown.status_code == 422
    assert unknown.json()["detail"]["fields"] == {"library_code": "没有这个成员馆"}
    bad = post(
        reader_client, "/api/v1/cards/link", {"library_code": "330100", "card_number": "a|b"}
    )
    assert bad.status_code == 422
    assert list(bad.json()["detail"]["fields"]) == ["card_number"]
    missing = post(reader_client, "/api/v1/cards/link", {"library_code": "330100"})
    assert missing.status_code == 422
    assert missing.json()["detail"]["fields"] == {"card_number": "Field required"}


def test_reader_operations_need_a_reader(hz_key_client, client, zhejiang):
    assert client.get("/api/v1/cards").status_code == 401
    response = hz_key_client.get("/api/v1/cards")
    assert (response.status_code, response.json()["code"]) == (403, "forbidden")


def test_desk_lookup_is_masked_and_audited(hz_key_client, nb_key_client, alice, hangzhou):
    response = post(hz_key_client, "/api/v1/desk/readers/lookup", {"id_number": ALICE_ID})
    assert response.status_code == 200, response.content
    assert response.json() == {
        "reader": {
            "ref": str(alice.uid),
            "name": "林**",
            "id_number": "330***********0026",
            "gender": "female",
            "birth_year": 1990,
        },
        "cards": [],
        "cards_elsewhere": 0,
        "eligible_for_credit_card": False,
        "eligibility_reason": "尚未完成信用授权，或授权结果已过期",
    }
    text = response.content.decode()
    for clear in (ALICE_ID, ALICE["name"], ALICE["phone"]):
        assert clear not in text
    entry = AuditEntry.objects.get(action="reader.looked_up")
    assert entry.detail == {"by": "id_number", "query": "330***********0026", "found": True}
    assert (entry.library_code, entry.object_id) == ("330100", str(alice.pk))

    nobody = post(hz_key_client, "/api/v1/desk/readers/lookup", {"id_number": "11010519491231002X"})
    assert nobody.status_code == 404
    malformed = post(
        hz_key_client, "/api/v1/desk/readers/lookup", {"id_number": "330106199001010027"}
    )
    assert malformed.status_code == 422
    assert list(malformed.json()["detail"]["fields"]) == ["id_number"]
    assert AuditEntry.objects.filter(action="reader.looked_up").count() == 2


def test_desk_deposit_card_and_status_changes(hz_key_client, nb_key_client, alice, hangzhou):
    issued = post(
        hz_key_client, "/api/v1/desk/cards", {"id_number": ALICE_ID, "deposit_fen": 10000}
    )
    assert issued.status_code == 201, issued.content
    number = issued.json()["number"]
    assert (issued.json()["kind"], issued.json()["deposit_fen"]) == ("deposit", 10000)
    # the card is found by its number at its own library only
    by_card = post(hz_key_client, "/api/v1/desk/readers/lookup", {"card_number": number})
    assert [c["number"] for c in by_card.json()["cards"]] == [number]
    elsewhere = post(nb_key_client, "/api/v1/desk/readers/lookup", {"card_number": number})
    assert elsewhere.status_code == 404

    path = f"/api/v1/desk/cards/330100/{number}"
    forbidden = post(nb_key_client, f"{path}/suspend", {"reason": "不是本馆"})
    assert forbidden.status_code == 403
    no_reason = post(hz_key_client, f"{path}/suspend", {"reason": ""})
    assert (no_reason.status_code, no_reason.json()["detail"]["fields"]) == (
        422,
        {"reason": "请填写原因"},
    )
    suspended = post(hz_key_client, f"{path}/suspend", {"reason": "遗失"})
    assert (suspended.json()["status"], suspended.json()["status_reason"]) == ("suspended", "遗失")
    conflict = post(hz_key_client, f"{path}/suspend", {"reason": "遗失"})
    assert (conflict.status_code, conflict.json()["code"]) == (409, "card_state")
    assert post(hz_key_client, f"{path}/reinstate", {"reason": "找回"}).json()["status"] == "active"
    assert post(hz_key_client, f"{path}/cancel", {"reason": "注销"}).json()["status"] == "cancelled"
    assert (CardLinkRequest.objects.count(), ManualReview.objects.count()) == (0, 0)


def test_desk_endpoints_refuse_readers(reader_client, zhejiang):
    response = post(reader_client, "/api/v1/desk/readers/lookup", {"id_number": ALICE_ID})
    assert response.status_code == 403
    assert reader_client.get("/api/v1/desk/link-requests").status_code == 403


def test_a_refusal_is_logged_at_debug_with_its_code_and_refused_access_still_warns(
    reader_client, hangzhou, caplog
):
    """A rule's refusal is an answer, not a fault: no WARNING line per 409 (in a rush of orders
    those lines were a tenth of the server's CPU), a DEBUG line with the code instead."""
    caplog.set_level(logging.DEBUG)
    assert post(reader_client, "/api/v1/cards", {"library_code": "330100"}).status_code == 409
    assert [(r.name, r.levelname, r.getMessage()) for r in caplog.records] == [
        ("xinyue.api.refusals", "DEBUG", "POST /api/v1/cards refused: not_admitted")
    ]
    caplog.clear()
    anonymous = post(Client(), "/api/v1/cards", {"library_code": "330100"})
    assert anonymous.status_code == 401
    assert [(r.name, r.levelname) for r in caplog.records] == [("django.request", "WARNING")]
