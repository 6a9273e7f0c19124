"""Issuing cards: refusals that are never a dead end, manual review, the library's number series,
one card per reader per library, deposit cards at the desk, status changes, webhooks."""

from __future__ import annotations

import json

import pytest
from conftest import allow_loopback
from django.db import transaction

from xinyue.cards.errors import (
    CardAlreadyHeld,
    CardStateConflict,
    LibraryNotAccepting,
    NotAdmitted,
    RequestNotPending,
)
from xinyue.cards.models import Card, CardEvent, CardLinkRequest, CardSeries, ManualReview
from xinyue.cards.selectors import card_counts, card_eligibility
from xinyue.cards.services.issuing import (
    approve_manual_review,
    cancel_card,
    issue_credit_card,
    issue_deposit_card,
    refuse_manual_review,
    reinstate_card,
    request_manual_review,
    suspend_card,
)
from xinyue.cards.tests.cards_support import approved_review
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import WebhookDelivery
from xinyue.libraries.services import (
    subscribe_webhook,
    update_library,
    verify_webhook_signature,
)
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.tests.identities import ALICE, ALICE_ID

pytestmark = pytest.mark.django_db


def snapshot() -> tuple[int, int, int, int, int]:
    return (
        Card.objects.count(),
        CardEvent.objects.count(),
        CardSeries.objects.count(),
        AuditEntry.objects.count(),
        WebhookDelivery.objects.count(),
    )


def test_a_reader_without_admittance_is_told_why_and_what_else_and_nothing_changes(
    alice, alice_actor, hangzhou
):
    before = snapshot()
    with pytest.raises(NotAdmitted) as refused:
        issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)
    assert refused.value.code == "not_admitted"
    assert refused.value.detail == {
        "reason": "not_authorized",
        "provider": "",
        "threshold": None,
        "alternatives": ["authorize", "link_card", "manual_review", "deposit_card"],
    }
    assert snapshot() == before


def test_manual_review_lets_that_library_issue_one_deposit_free_card(
    alice, alice_actor, hangzhou, ningbo, hz_desk
):
    review = request_manual_review(
        actor=alice_actor, reader=alice, library=hangzhou, message="刚来杭州工作"
    )
    assert (review.status, review.refusal_reason, review.message) == (
        "pending",
        "not_authorized",
        "刚来杭州工作",
    )
    # asking again returns the same pending review
    assert request_manual_review(actor=alice_actor, reader=alice, library=hangzhou) == review
    pending = card_eligibility(reader=alice, library=hangzhou)
    assert not pending.eligible
    assert [(a["code"], a.get("status")) for a in pending.alternatives] == [
        ("authorize", None),
        ("link_card", None),
        ("manual_review", "pending"),
        ("deposit_card", None),
    ]
    with pytest.raises(NotAdmitted):
        issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)

    approve_manual_review(actor=hz_desk, review=review, note="核验身份证与工作证明")
    card = issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)

    assert (card.kind, card.deposit_fen, card.status, card.number) == (
        "credit",
        0,
        "active",
        "33010000000001",
    )
    assert card.service_activated_at == card.issued_at
    review.refresh_from_db()
    assert (review.status, review.card_id, review.decision_note) == (
        "used",
        card.pk,
        "核验身份证与工作证明",
    )
    (event,) = CardEvent.objects.filter(card=card)
    assert (event.from_state, event.to_state) == ("", "active")
    assert event.note == f"basis=manual_review review={review.pk} service_activated"
    issued = AuditEntry.objects.get(action="card.issued")
    assert issued.detail["basis"] == "manual_review"
    assert issued.detail["review_id"] == review.pk
    assert issued.actor_ref == f"user:{alice.user_id}"
    assert list(
        AuditEntry.objects.filter(action__startswith="card_review").values_list("action", flat=True)
    ) == ["card_review.approved", "card_review.requested"]
    # the approval was for Hangzhou only, and it was used
    with pytest.raises(NotAdmitted):
        issue_credit_card(actor=alice_actor, reader=alice, library=ningbo)
    assert card_counts(library=hangzhou) == {"credit": 1, "deposit": 0, "existing": 0}


def test_a_refused_review_shows_the_reason_and_keeps_the_other_ways_open(
    alice, alice_actor, hangzhou, hz_desk, nb_admin
):
    review = request_manual_review(actor=alice_actor, reader=alice, library=hangzhou)
    with pytest.raises(PermissionDenied):
        refuse_manual_review(actor=nb_admin, review=review, reason="不是本馆")
    with pytest.raises(InvalidInput) as blank:
        refuse_manual_review(actor=hz_desk, review=review, reason="  ")
    assert blank.value.fields == {"reason": "请填写原因"}
    refuse_manual_review(actor=hz_desk, review=review, reason="请到馆提供居住证明")
    with pytest.raises(RequestNotPending):
        refuse_manual_review(actor=hz_desk, review=review, reason="again")
    eligibility = card_eligibility(reader=alice, library=hangzhou)
    review_alt = next(a for a in eligibility.alternatives if a["code"] == "manual_review")
    assert review_alt["status"] == "refused"
    assert review_alt["description"] == "成员馆未通过审核：请到馆提供居住证明"
    assert "deposit_card" in [a["code"] for a in eligibility.alternatives]
    # a new review can be asked for after a refusal
    again = request_manual_review(actor=alice_actor, reader=alice, library=hangzhou)
    assert again.pk != review.pk
    assert again.status == "pending"


def test_only_the_reader_themself_asks_and_gets_their_card(alice, bob, hangzhou, hz_desk):
    with pytest.raises(PermissionDenied):
        request_manual_review(actor=reader_actor(bob), reader=alice, library=hangzhou)
    approved_review(alice, hangzhou, hz_desk)
    with pytest.raises(PermissionDenied):
        issue_credit_card(actor=reader_actor(bob), reader=alice, library=hangzhou)
    with pytest.raises(PermissionDenied):
        issue_credit_card(actor=hz_desk, reader=alice, library=hangzhou)
    assert Card.objects.count() == 0


def test_numbers_follow_the_library_series_and_skip_numbers_already_taken(
    alice, bob, hangzhou, hz_desk, operator
):
    update_library(actor=operator, library=hangzhou, settings_values={"card_prefix": "HZ"})
    hangzhou.refresh_from_db()
    approved_review(alice, hangzhou, hz_desk)
    first = issue_credit_card(actor=reader_actor(alice), reader=alice, library=hangzhou)
    assert first.number == "HZ00000001"
    # a card of the library's own system, linked earlier, holds the next number of our series
    from xinyue.cards.services.linking import approve_link_request, link_existing_card

    outcome = link_existing_card(
        actor=reader_actor(bob), reader=bob, library=hangzhou, card_number="HZ00000002"
    )
    approve_link_request(actor=hz_desk, request=outcome.request)
    cancel_card(actor=hz_desk, card=first, reason="测试")
    approved_review(alice, hangzhou, hz_desk)
    second = issue_credit_card(actor=reader_actor(alice), reader=alice, library=hangzhou)
    assert second.number == "HZ00000003"
    assert CardSeries.objects.get(library=hangzhou).last_number == 3


def test_one_open_card_per_reader_per_library(alice, alice_actor, hangzhou, hz_desk):
    approved_review(alice, hangzhou, hz_desk)
    card = issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)
    before = snapshot()
    with pytest.raises(CardAlreadyHeld):
        issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)
    with pytest.raises(CardAlreadyHeld):
        issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=10000)
    with pytest.raises(CardAlreadyHeld):
        request_manual_review(actor=alice_actor, reader=alice, library=hangzhou)
    assert snapshot() == before
    assert card_eligibility(reader=alice, library=hangzhou).reason_code == "card_held"
    # once cancelled, a new card may be issued at the same library
    cancel_card(actor=hz_desk, card=card, reason="读者申请注销")
    deposit = issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=5000)
    assert deposit.number == "33010000000002"


def test_an_inactive_library_issues_nothing(alice, alice_actor, hangzhou, hz_desk, operator):
    approved_review(alice, hangzhou, hz_desk)
    update_library(actor=operator, library=hangzhou, is_active=False)
    hangzhou.refresh_from_db()
    with pytest.raises(LibraryNotAccepting):
        issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)
    assert Card.objects.count() == 0


def test_asking_again_after_approval_returns_the_approved_review(
    alice, alice_actor, hangzhou, hz_desk
):
    approved = approved_review(alice, hangzhou, hz_desk)
    review = request_manual_review(actor=alice_actor, reader=alice, library=hangzhou)
    assert (review.pk, review.status) == (approved.pk, "approved")
    assert ManualReview.objects.count() == 1


def test_card_issued_webhook_is_signed_and_carries_masked_data_only(
    alice,
    alice_actor,
    hangzhou,
    hz_admin,
    hz_desk,
    django_capture_on_commit_callbacks,
    loopback_server,
):
    sink = loopback_server()
    try:
        subscription = subscribe_webhook(
            actor=hz_admin, library=allow_loopback(hangzhou), url=sink.url
        )
        approved_review(alice, hangzhou, hz_desk)
        with django_capture_on_commit_callbacks(execute=True):
            card = issue_credit_card(actor=alice_actor, reader=alice, library=hangzhou)
    finally:
        sink.close()
    (request,) = sink.requests
    body = request["body"]
    assert verify_webhook_signature(
        subscription.secret, body, request["headers"]["X-Xinyue-Signature"]
    )
    payload = json.loads(body)
    assert payload["type"] == "card.issued"
    assert payload["library_code"] == "330100"
    data = payload["data"]
    assert data["card_number"] == card.number
    assert (data["kind"], data["deposit_fen"], data["status"]) == ("credit", 0, "active")
    assert data["reader"] == {
        "ref": str(alice.uid),
        "name": "林**",
        "id_number": "330***********0026",
        "gender": "female",
        "birth_year": 1990,
    }
    text = body.decode()
    for clear in (ALICE["name"], ALICE_ID, ALICE["phone"]):
        assert clear not in text


def test_deposit_card_at_the_desk(alice, alice_actor, hangzhou, hz_desk, nb_admin):
    before = snapshot()
    for bad, message in (
        (0, "押金应在 0.01–1000.00 元之间"),
        (100_001, "押金应在 0.01–1000.00 元之间"),
        (True, "押金应为整数（分）"),
    ):
        with pytest.raises(InvalidInput) as invalid:
            issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=bad)
        assert invalid.value.fields == {"deposit_fen": message}
    with pytest.raises(PermissionDenied):
        issue_deposit_card(actor=nb_admin, reader=alice, library=hangzhou, deposit_fen=10000)
    with pytest.raises(PermissionDenied):
        issue_deposit_card(actor=alice_actor, reader=alice, library=hangzhou, deposit_fen=10000)
    assert snapshot() == before

    card = issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=10000)
    assert (card.kind, card.deposit_fen, card.number, card.service_activated_at) == (
        "deposit",
        10000,
        "33010000000001",
        None,
    )
    entry = AuditEntry.objects.get(action="card.issued")
    assert entry.detail == {
        "number": "33010000000001",
        "kind": "deposit",
        "deposit_fen": 10000,
    }
    assert entry.library_code == "330100"
    assert card_counts(library=hangzhou) == {"credit": 0, "deposit": 1, "existing": 0}


def test_suspend_reinstate_cancel_with_reasons(
    alice,
    hangzhou,
    hz_desk,
    nb_admin,
    operator,
    django_capture_on_commit_callbacks,
    hz_admin,
    loopback_server,
):
    card = issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=10000)
    with pytest.raises(PermissionDenied):
        suspend_card(actor=nb_admin, card=card, reason="不是本馆的证")
    with pytest.raises(PermissionDenied):
        suspend_card(actor=reader_actor(alice), card=card, reason="自己停")
    with pytest.raises(InvalidInput) as blank:
        suspend_card(actor=hz_desk, card=card, reason="")
    assert blank.value.fields == {"reason": "请填写原因"}
    card.refresh_from_db()
    assert (card.status, card.status_reason) == ("active", "")

    sink = loopback_server()
    try:
        subscribe_webhook(
            actor=hz_admin,
            library=allow_loopback(hangzhou),
            url=sink.url,
            event_types=["card.suspended"],
        )
        with django_capture_on_commit_callbacks(execute=True):
            card = suspend_card(actor=hz_desk, card=card, reason="读者证遗失")
    finally:
        sink.close()
    assert (card.status, card.status_reason) == ("suspended", "读者证遗失")
    (hook,) = sink.requests
    assert json.loads(hook["body"])["data"]["reason"] == "读者证遗失"
    with pytest.raises(CardStateConflict):
        suspend_card(actor=hz_desk, card=card, reason="again")
    card = reinstate_card(actor=operator, card=card, reason="已找回")
    assert (card.status, card.status_reason) == ("active", "已找回")
    card = cancel_card(actor=hz_desk, card=card, reason="读者申请注销")
    with pytest.raises(CardStateConflict):
        reinstate_card(actor=hz_desk, card=card, reason="恢复")
    transitions = list(
        CardEvent.objects.filter(card=card).values_list("from_state", "to_state", "note")
    )
    assert transitions == [
        ("", "active", "deposit_fen=10000"),
        ("active", "suspended", "读者证遗失"),
        ("suspended", "active", "已找回"),
        ("active", "cancelled", "读者申请注销"),
    ]
    assert list(
        AuditEntry.objects.filter(
            action__in=["card.suspended", "card.reinstated", "card.cancelled"]
        )
        .order_by("id")
        .values_list("action", "actor_ref")
    ) == [
        ("card.suspended", hz_desk.ref),
        ("card.reinstated", operator.ref),
        ("card.cancelled", hz_desk.ref),
    ]


def test_nothing_is_issued_when_the_transaction_rolls_back(alice, hangzhou, hz_desk):
    before = snapshot()

    def issue_then_fail() -> None:
        with transaction.atomic():
            issue_deposit_card(actor=hz_desk, reader=alice, library=hangzhou, deposit_fen=100)
            raise RuntimeError("a later step failed")

    with pytest.raises(RuntimeError):
        issue_then_fail()
    assert snapshot() == before


def test_export_and_account_deletion_cover_card_requests(
    alice, alice_actor, hangzhou, ningbo, nb_admin
):
    from xinyue.cards.services.linking import link_existing_card
    from xinyue.readers.services.rights import delete_reader_account, export_reader_data

    request_manual_review(actor=alice_actor, reader=alice, library=hangzhou, message="我的情况")
    refused = request_manual_review(actor=alice_actor, reader=alice, library=ningbo, message="x")
    refuse_manual_review(actor=nb_admin, review=refused, reason="不符合")
    link_existing_card(actor=alice_actor, reader=alice, library=hangzhou, card_number="HZ9")
    card = issue_deposit_card(actor=nb_admin, reader=alice, library=ningbo, deposit_fen=100)

    exported = export_reader_data(actor=alice_actor, reader=alice)["card_requests"]
    assert [(r["library_code"], r["status"], r["message"]) for r in exported["card_reviews"]] == [
        ("330100", "pending", "我的情况"),
        ("330200", "refused", "x"),
    ]
    assert [(r["card_number"], r["status"]) for r in exported["card_link_requests"]] == [
        ("HZ9", "pending")
    ]

    delete_reader_account(actor=alice_actor, reader=alice)
    assert list(ManualReview.objects.order_by("id").values_list("status", "message")) == [
        ("withdrawn", ""),
        ("refused", ""),
    ]
    assert CardLinkRequest.objects.get().status == "withdrawn"
    assert AuditEntry.objects.get(action="card_requests.withdrawn").detail == {"withdrawn": 2}
    card.refresh_from_db()
    assert (card.status, card.status_reason) == ("cancelled", "读者注销账户")
