"""``GET /api/v1/readers/me`` sends each card with exactly the fields its OpenAPI schema lists."""

from __future__ import annotations

import pytest
from django.test import Client

from xinyue.cards.services.issuing import issue_deposit_card
from xinyue.readers.services.tokens import issue_reader_token

pytestmark = pytest.mark.django_db


def test_cards_of_readers_me_match_the_document(client, alice, hz_desk, hangzhou):
    issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=10_000)
    _row, token = issue_reader_token(reader=alice)
    me = Client(HTTP_AUTHORIZATION=f"Bearer {token}").get("/api/v1/readers/me")
    assert me.status_code == 200, me.content
    (card,) = me.json()["cards"]

    document = client.get("/api/v1/openapi.json").json()
    schemas = document["components"]["schemas"]
    operation = document["paths"]["/api/v1/readers/me"]["get"]
    reader_ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    card_ref = schemas[reader_ref.rsplit("/", 1)[1]]["properties"]["cards"]["items"]["$ref"]
    card_schema = schemas[card_ref.rsplit("/", 1)[1]]
    assert set(card) == set(card_schema["properties"])
    assert set(card_schema["required"]) <= set(card)
    assert (card["kind"], card["deposit_fen"], card["service_active"]) == ("deposit", 10_000, False)
