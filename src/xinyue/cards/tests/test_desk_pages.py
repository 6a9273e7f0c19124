"""The library desk in the console: masked, audited lookups; deposit cards; suspending; the
queue of link requests and manual reviews; other libraries' staff kept out."""

from __future__ import annotations

import pytest

from xinyue.cards.models import Card, CardLinkRequest, ManualReview
from xinyue.cards.services.issuing import issue_deposit_card
from xinyue.cards.services.linking import link_existing_card
from xinyue.core.models import AuditEntry
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.tests.identities import ALICE, ALICE_ID

pytestmark = pytest.mark.django_db


def test_lookup_by_id_number_is_masked_and_audited(logged_in, hz_desk_user, alice):
    client = logged_in(hz_desk_user)
    home = client.get("/console/desk/")
    assert home.status_code == 200
    assert "读者服务台" in home.content.decode()
    response = client.post("/console/desk/", {"id_number": ALICE_ID, "card_number": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert '<dd id="reader-name">林**</dd>' in page
    assert '<dd id="reader-id">330***********0026</dd>' in page
    for clear in (ALICE_ID, ALICE["name"], ALICE["phone"]):
        assert clear not in page
    entry = AuditEntry.objects.get(action="reader.looked_up")
    assert (entry.actor_ref, entry.library_code, entry.channel) == (
        f"user:{hz_desk_user.pk}",
        "330100",
        "desk",
    )
    assert entry.detail == {"by": "id_number", "query": "330***********0026", "found": True}


def test_lookup_errors_and_not_found(logged_in, hz_desk_user, zhejiang):
    client = logged_in(hz_desk_user)
    both = client.post("/console/desk/", {"id_number": "", "card_number": ""})
    assert both.status_code == 422
    assert "请输入身份证号或读者证号（二选一）" in both.content.decode()
    missing = client.post("/console/desk/", {"id_number": "", "card_number": "NOPE"})
    assert 'id="not-found"' in missing.content.decode()
    assert AuditEntry.objects.get(action="reader.looked_up").detail == {
        "by": "card_number",
        "query": "NOPE",
        "found": False,
    }


def test_invalid_id_number_shows_only_the_field_error(logged_in, hz_desk_user, zhejiang):
    client = logged_in(hz_desk_user)
    response = client.post("/console/desk/", {"id_number": "330106199001010027", "card_number": ""})
    page = response.content.decode()
    assert response.status_code == 422
    assert '<div class="error" id="error-id_number">身份证号校验位不正确，请核对</div>' in page
    assert 'id="not-found"' not in page
    assert "没有找到该读者" not in page
    assert not AuditEntry.objects.filter(action="reader.looked_up").exists()


def test_desk_speaks_of_the_reader_in_the_third_person(logged_in, hz_desk_user, hz_desk, alice):
    issue_deposit_card(
        actor=hz_desk, reader=alice, library=hz_desk_library(hz_desk), deposit_fen=10000
    )
    client = logged_in(hz_desk_user)
    page = client.post("/console/desk/", {"id_number": ALICE_ID, "card_number": ""})
    html = page.content.decode()
    assert '<dd id="reader-eligibility">该读者在本馆已有读者证（见下表）</dd>' in html
    assert "您在该馆" not in html
    again = client.post(
        "/console/desk/deposit-card/", {"reader_ref": str(alice.uid), "deposit": "100.00"}
    )
    told = client.get(again["Location"]).content.decode()
    assert "该读者在本馆已有读者证" in told
    assert "您在该馆" not in told
    assert Card.objects.filter(reader=alice).count() == 1


def test_deposit_card_then_suspend_at_the_desk(logged_in, hz_desk_user, alice):
    client = logged_in(hz_desk_user)
    response = client.post(
        "/console/desk/deposit-card/", {"reader_ref": str(alice.uid), "deposit": "100.00"}
    )
    card = Card.objects.get()
    assert (card.kind, card.deposit_fen, card.library.code) == ("deposit", 10000, "330100")
    assert response["Location"] == f"/console/desk/?card={card.number}"
    page = client.get(response["Location"]).content.decode()
    assert card.number in page
    assert "¥100.00" in page
    suspended = client.post(
        f"/console/desk/cards/330100/{card.number}/suspend/", {"reason": "读者证遗失"}
    )
    assert suspended.status_code == 302
    card.refresh_from_db()
    assert (card.status, card.status_reason) == ("suspended", "读者证遗失")
    bad = client.post(
        "/console/desk/deposit-card/", {"reader_ref": str(alice.uid), "deposit": "-5"}
    )
    assert bad.status_code == 302
    assert Card.objects.count() == 1


def test_other_libraries_staff_cannot_touch_the_card(logged_in, nb_admin_user, hz_desk, alice):
    card = issue_deposit_card(
        actor=hz_desk, reader=alice, library=hz_desk_library(hz_desk), deposit_fen=100
    )
    client = logged_in(nb_admin_user)
    response = client.post(f"/console/desk/cards/330100/{card.number}/cancel/", {"reason": "x"})
    assert response.status_code == 403
    card.refresh_from_db()
    assert card.status == "active"
    # and a card-number lookup at Ningbo finds nothing of Hangzhou's
    found = client.post("/console/desk/", {"id_number": "", "card_number": card.number})
    assert 'id="not-found"' in found.content.decode()


def hz_desk_library(actor):
    from xinyue.libraries.models import Library

    return Library.objects.get(pk=actor.library_id)


def test_readers_are_kept_out_of_the_console(client, alice):
    client.force_login(alice.user)
    assert client.get("/console/desk/").status_code == 403


def test_queue_approve_link_and_review(
    logged_in, hz_desk_user, nb_admin_user, alice, bob, hangzhou
):
    link_existing_card(
        actor=reader_actor(alice), reader=alice, library=hangzhou, card_number="HZ-77"
    )
    review = ManualReview.objects.create(reader=bob, library=hangzhou, refusal_reason="refused")
    request = CardLinkRequest.objects.get()

    ningbo = logged_in(nb_admin_user).get("/console/desk/requests/").content.decode()
    assert "HZ-77" not in ningbo
    assert (
        logged_in(nb_admin_user)
        .post(f"/console/desk/link-requests/{request.pk}/approve/")
        .status_code
        == 404
    )

    client = logged_in(hz_desk_user)
    page = client.get("/console/desk/requests/").content.decode()
    assert "HZ-77" in page
    assert "林**" in page
    assert "王**" in page
    assert "信用评估未达标" in page
    assert ALICE_ID not in page

    client.post(f"/console/desk/link-requests/{request.pk}/approve/", {"note": ""})
    request.refresh_from_db()
    assert request.status == "approved"
    assert request.card.number == "HZ-77"

    no_reason = client.post(f"/console/desk/reviews/{review.pk}/refuse/", {"reason": ""})
    assert no_reason.status_code == 302
    review.refresh_from_db()
    assert review.status == "pending"
    client.post(f"/console/desk/reviews/{review.pk}/approve/", {"note": "到馆核验"})
    review.refresh_from_db()
    assert (review.status, review.decision_note) == ("approved", "到馆核验")


def test_operator_picks_the_library(logged_in, operator_user, alice, ningbo):
    client = logged_in(operator_user)
    page = client.get("/console/desk/?library=330200").content.decode()
    assert "宁波" in page
    response = client.post(
        "/console/desk/deposit-card/?library=330200",
        {"reader_ref": str(alice.uid), "deposit": "50"},
    )
    assert response["Location"].startswith("/console/desk/?library=330200&card=")
    assert Card.objects.get().library.code == "330200"
