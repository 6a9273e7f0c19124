"""Cards for readers admitted (or refused) by a real credit authorization: the credit services
against the sandbox gateway over HTTP on a live server, then our card services, API and pages.

A score of 550 is admitted and gets a deposit-free card; 549 is refused and offered the ways
forward; withdrawing the credit consent voids the admittance for new cards."""

from __future__ import annotations

import json

import pytest
import requests

from xinyue.cards.errors import AlreadyAdmitted, NotAdmitted
from xinyue.cards.models import Card
from xinyue.cards.selectors import card_eligibility
from xinyue.cards.services.issuing import issue_credit_card, request_manual_review
from xinyue.core.models import AuditEntry
from xinyue.credit import services as credit_services
from xinyue.readers.services.consents import withdraw_consent
from xinyue.readers.services.identity import reader_actor, register_reader
from xinyue.readers.services.tokens import issue_reader_token
from xinyue.readers.tests.identities import ALICE

pytestmark = pytest.mark.django_db(transaction=True)

CONSENTS = ("id_number", "credit_check", "share_borrowing")


@pytest.fixture
def sandbox(settings, live_server, tmp_path, zhejiang):
    """The platform on a live server with the sandbox gateway mounted, as in embedded mode."""
    settings.CREDIT_KEY_DIR = tmp_path / "credit_keys"
    settings.CREDIT_SANDBOX_ENABLED = True
    settings.CREDIT_HTTP_TIMEOUT_SECONDS = 5
    settings.PUBLIC_BASE_URL = live_server.url
    return live_server.url


def authorized(reader, score: int) -> str:
    """The reader authorizes the credit check; the test user of the sandbox has ``score``."""
    authorization = credit_services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    response = requests.post(
        authorization.confirm_url,
        data={"decision": "approve", "score": str(score)},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text
    authorization.refresh_from_db()
    return authorization.status


def test_550_is_admitted_and_gets_a_deposit_free_card(sandbox):
    reader = register_reader(**ALICE, consents=CONSENTS)
    assert authorized(reader, 550) == "admitted"
    eligibility = card_eligibility(reader=reader)
    assert (eligibility.eligible, eligibility.basis, eligibility.threshold) == (True, "credit", 550)
    from xinyue.libraries.models import Library

    ningbo = Library.objects.get(code="330200")
    card = issue_credit_card(actor=reader_actor(reader), reader=reader, library=ningbo)
    assert (card.kind, card.deposit_fen, card.number, card.status) == (
        "credit",
        0,
        "33020000000001",
        "active",
    )
    issued = AuditEntry.objects.get(action="card.issued")
    assert {k: issued.detail[k] for k in ("basis", "provider", "threshold")} == {
        "basis": "credit",
        "provider": "sandbox",
        "threshold": 550,
    }
    with pytest.raises(AlreadyAdmitted):
        request_manual_review(
            actor=reader_actor(reader),
            reader=reader,
            library=Library.objects.get(code="330100"),
        )


def test_549_is_refused_with_the_reason_and_the_ways_forward(sandbox):
    reader = register_reader(**ALICE, consents=CONSENTS)
    assert authorized(reader, 549) == "refused"
    from xinyue.libraries.models import Library

    hangzhou = Library.objects.get(code="330100")
    with pytest.raises(NotAdmitted) as refused:
        issue_credit_card(actor=reader_actor(reader), reader=reader, library=hangzhou)
    assert refused.value.message == (
        "信用沙箱 信用评估未达到平台准入标准（550 分），暂不能免押金办证"
    )
    assert refused.value.detail == {
        "reason": "refused",
        "provider": "sandbox",
        "threshold": 550,
        "alternatives": ["manual_review", "deposit_card", "link_card"],
    }
    assert Card.objects.count() == 0
    review = request_manual_review(actor=reader_actor(reader), reader=reader, library=hangzhou)
    assert (review.status, review.refusal_reason) == ("pending", "refused")


def test_withdrawn_credit_consent_voids_the_admittance_for_new_cards(sandbox):
    reader = register_reader(**ALICE, consents=CONSENTS)
    assert authorized(reader, 700) == "admitted"
    withdraw_consent(actor=reader_actor(reader), reader=reader, purpose="credit_check")
    assert card_eligibility(reader=reader).reason_code == "not_authorized"


def test_the_api_flow_of_a_channel_app(sandbox, client):
    reader = register_reader(**ALICE, consents=CONSENTS)
    assert authorized(reader, 600) == "admitted"
    _row, token = issue_reader_token(reader=reader)
    response = client.post(
        "/api/v1/cards",
        data=json.dumps({"library_code": "330300"}),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert {k: body[k] for k in ("number", "library_code", "kind", "deposit_fen", "status")} == {
        "number": "33030000000001",
        "library_code": "330300",
        "kind": "credit",
        "deposit_fen": 0,
        "status": "active",
    }


@pytest.mark.browser
def test_new_reader_registers_authorizes_and_gets_a_card_in_chromium(sandbox, page):
    page.goto("/reader/register/")
    page.fill("input[name=id_number]", ALICE["id_number"])
    page.fill("input[name=name]", ALICE["name"])
    page.fill("input[name=phone]", ALICE["phone"])
    page.fill("input[name=password]", ALICE["password"])
    page.fill("input[name=password2]", ALICE["password"])
    page.check("input[name=consent_id_number]")
    page.click("#register-submit")
    page.wait_for_load_state()

    page.goto("/credit/")
    page.check("input[name=provider][value=sandbox]")
    consent = page.locator("input[name=consent]")
    if consent.count():
        consent.check()
    page.click("#start-authorization")
    page.wait_for_url("**/sandbox/zhima/**")
    page.fill("#sb-score", "550")
    page.get_by_role("button", name="同意授权").click()
    page.wait_for_selector("#get-card")
    page.click("#get-card")
    page.wait_for_url("**/cards/new/")
    assert "已通过信用评估" in page.locator(".eligibility").inner_text()
    page.get_by_role("link", name="宁波").click()
    page.locator('.library-row[data-code="330200"] button').click()
    page.wait_for_url("**/cards/330200/")
    assert page.locator("#card-number").inner_text() == "33020000000001"
    assert page.locator(".qr svg.card-qr").is_visible()
    assert "免押金" in page.locator(".card-facts").inner_text()
