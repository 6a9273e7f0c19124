"""Linking checked by the library's REST endpoint (a real HTTP server verifying our HMAC
signature) or by the library's staff approving a pending request."""

from __future__ import annotations

import json

import pytest

from xinyue.cards.errors import (
    CardNumberTaken,
    LinkCheckFailed,
    LinkCheckUnavailable,
    RequestNotPending,
)
from xinyue.cards.models import Card, CardLinkRequest
from xinyue.cards.services.linking import (
    approve_link_request,
    link_existing_card,
    refuse_link_request,
)
from xinyue.core.errors import PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.libraries.services import update_library, verify_webhook_signature
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db

SECRET = "hz-ils-shared-secret"
CARDS = {"0571-778899": "1234"}


def ils_answer(body: bytes, headers: dict[str, str]) -> tuple[int, object]:
    """What a member library's system does: check our signature, then the card."""
    if not verify_webhook_signature(SECRET, body, headers.get("X-Xinyue-Signature", "")):
        return 401, {"error": "bad signature"}
    data = json.loads(body)
    valid = CARDS.get(data["card_number"]) == data["password"]
    return 200, {"valid": valid, "reason": "" if valid else "密码错误"}


@pytest.fixture
def ils(loopback_server):
    return loopback_server(ils_answer, path="/verify")


def configure_rest(library, operator, url, secret=SECRET):
    update_library(
        actor=operator,
        library=library,
        settings_values={
            "link_card_check": "rest",
            "outbound_allow_networks": ["127.0.0.0/8"],  # the test's library system: loopback
            "rest_verify_url": url,
            "rest_verify_secret": secret,
        },
    )
    library.refresh_from_db()
    return library


def link(reader, library, number, password=""):
    return link_existing_card(
        actor=reader_actor(reader),
        reader=reader,
        library=library,
        card_number=number,
        password=password,
    )


def test_rest_check_signed_and_confirmed(alice, hangzhou, operator, ils):
    configure_rest(hangzhou, operator, ils.url)
    outcome = link(alice, hangzhou, "0571-778899", "1234")
    assert outcome.status == "activated"
    assert (outcome.card.kind, outcome.card.number) == ("existing", "0571-778899")
    assert outcome.request.method == "rest"
    (sent,) = ils.requests
    payload = json.loads(sent["body"])
    assert set(payload) == {"request_id", "library_code", "card_number", "password", "timestamp"}
    assert (payload["library_code"], payload["card_number"], payload["password"]) == (
        "330100",
        "0571-778899",
        "1234",
    )
    assert sent["headers"]["Content-Type"] == "application/json; charset=utf-8"


def test_rest_check_refusal(alice, hangzhou, operator, ils):
    configure_rest(hangzhou, operator, ils.url)
    with pytest.raises(LinkCheckFailed):
        link(alice, hangzhou, "0571-778899", "0000")
    assert Card.objects.count() == 0
    assert CardLinkRequest.objects.get().decision_note == "密码错误"


def test_a_wrong_shared_secret_is_rejected_by_the_library_and_changes_nothing(
    alice, hangzhou, operator, ils
):
    configure_rest(hangzhou, operator, ils.url, secret="not-the-right-one")
    with pytest.raises(LinkCheckUnavailable):
        link(alice, hangzhou, "0571-778899", "1234")
    assert (Card.objects.count(), CardLinkRequest.objects.count()) == (0, 0)


@pytest.mark.parametrize(
    "answer",
    [(500, {"error": "down"}), (200, b"<html>maintenance</html>"), (200, {"valid": "yes"})],
)
def test_unusable_answers_mean_unavailable(alice, hangzhou, operator, answer, loopback_server):
    peer = loopback_server(lambda body, headers: answer, path="/verify")
    configure_rest(hangzhou, operator, peer.url)
    with pytest.raises(LinkCheckUnavailable):
        link(alice, hangzhou, "0571-778899", "1234")
    assert Card.objects.count() == 0


def test_rest_check_not_configured(alice, hangzhou, operator):
    update_library(actor=operator, library=hangzhou, settings_values={"link_card_check": "rest"})
    hangzhou.refresh_from_db()
    with pytest.raises(LinkCheckUnavailable) as unavailable:
        link(alice, hangzhou, "0571-778899", "1234")
    assert unavailable.value.message == "该馆尚未配置读者证核验接口"


# --- staff approval (the default check) ----------------------------------------------------


def test_staff_check_leaves_a_pending_request_the_library_approves(
    alice, hangzhou, hz_desk, nb_admin
):
    outcome = link(alice, hangzhou, "HZ778899")
    assert (outcome.status, outcome.card) == ("pending", None)
    request = outcome.request
    assert (request.method, request.status) == ("staff", "pending")
    assert link(alice, hangzhou, "HZ778899").request.pk == request.pk  # idempotent
    with pytest.raises(PermissionDenied):
        approve_link_request(actor=nb_admin, request=request)
    with pytest.raises(PermissionDenied):
        approve_link_request(actor=reader_actor(alice), request=request)
    assert Card.objects.count() == 0

    card = approve_link_request(actor=hz_desk, request=request, note="核对了纸质证")
    assert (card.kind, card.number, card.status) == ("existing", "HZ778899", "active")
    assert card.service_activated_at is not None
    request.refresh_from_db()
    assert (request.status, request.card_id, request.decided_by, request.decision_note) == (
        "approved",
        card.pk,
        hz_desk.ref,
        "核对了纸质证",
    )
    with pytest.raises(RequestNotPending):
        approve_link_request(actor=hz_desk, request=request)
    assert list(
        AuditEntry.objects.filter(action__startswith="card.link")
        .order_by("id")
        .values_list("action", "actor_ref")
    ) == [("card.link_requested", f"user:{alice.user_id}"), ("card.linked", hz_desk.ref)]


def test_a_new_number_replaces_the_pending_request(alice, hangzhou):
    first = link(alice, hangzhou, "HZ1").request
    second = link(alice, hangzhou, "HZ2").request
    first.refresh_from_db()
    assert (first.status, second.status, second.card_number) == ("withdrawn", "pending", "HZ2")


def test_staff_refuse_with_a_reason(alice, hangzhou, hz_desk):
    request = link(alice, hangzhou, "HZ778899").request
    refused = refuse_link_request(actor=hz_desk, request=request, reason="查无此证")
    assert (refused.status, refused.decision_note) == ("refused", "查无此证")
    assert Card.objects.count() == 0


def test_approval_refused_when_the_number_was_taken_meanwhile(alice, bob, hangzhou, hz_desk):
    alice_request = link(alice, hangzhou, "HZ5").request
    bob_request = link(bob, hangzhou, "HZ5").request
    approve_link_request(actor=hz_desk, request=bob_request)
    with pytest.raises(CardNumberTaken):
        approve_link_request(actor=hz_desk, request=alice_request)
    alice_request.refresh_from_db()
    assert alice_request.status == "pending"
    assert Card.objects.filter(number="HZ5").get().reader_id == bob.pk
