"""Linking an existing card checked by the library's own system over SIP2 (a real ACS on a
loopback socket): activation, wrong passwords, the guessing throttle, encodings, outages."""

from __future__ import annotations

import logging

import pytest

from xinyue.cards.errors import (
    CardNumberTaken,
    LinkCheckFailed,
    LinkCheckUnavailable,
    TooManyLinkAttempts,
)
from xinyue.cards.models import Card, CardEvent, CardLinkRequest
from xinyue.cards.services.issuing import issue_deposit_card
from xinyue.cards.services.linking import link_existing_card
from xinyue.core.errors import InvalidInput
from xinyue.core.models import AuditEntry
from xinyue.libraries.services import update_library
from xinyue.readers.services.identity import reader_actor
from xinyue.sip2.testing import PATRON_BLOCKED, FakeAcs, FakePatron

pytestmark = pytest.mark.django_db

PASSWORD = "246810"


@pytest.fixture
def acs():
    server = FakeAcs(
        patrons={
            "HZ-0001": FakePatron(password=PASSWORD, name="林晓雨"),
            "HZ-0002": FakePatron(password="1357", status=PATRON_BLOCKED),
        },
        encoding="gbk",
        institution_id="hzlib",
        login=("xinyue", "sip-secret"),
    )
    with server:
        yield server


@pytest.fixture
def sip2_library(hangzhou, operator, acs):
    update_library(
        actor=operator,
        library=hangzhou,
        settings_values={
            "link_card_check": "sip2",
            "sip2_host": acs.host,
            "sip2_port": acs.port,
            "sip2_encoding": "gbk",
            "sip2_login_user": "xinyue",
            "sip2_login_password": "sip-secret",
            "sip2_institution_id": "hzlib",
        },
    )
    hangzhou.refresh_from_db()
    return hangzhou


def link(reader, library, number, password=PASSWORD):
    return link_existing_card(
        actor=reader_actor(reader),
        reader=reader,
        library=library,
        card_number=number,
        password=password,
    )


def test_a_card_the_library_system_confirms_is_linked_and_activated(
    alice, sip2_library, acs, caplog
):
    caplog.set_level(logging.DEBUG)
    outcome = link(alice, sip2_library, " HZ-0001 ")
    assert outcome.status == "activated"
    card = outcome.card
    assert (card.number, card.kind, card.status, card.deposit_fen) == (
        "HZ-0001",
        "existing",
        "active",
        0,
    )
    assert card.service_activated_at is not None
    request = outcome.request
    assert (request.method, request.status, request.card_id) == ("sip2", "verified", card.pk)
    (event,) = CardEvent.objects.filter(card=card)
    assert event.note == "linked via sip2 service_activated"
    linked = AuditEntry.objects.get(action="card.linked")
    assert linked.detail == {"number": "HZ-0001", "method": "sip2"}

    login, patron = acs.received
    assert login.startswith(b"9300CNxinyue|COsip-secret|CP|AY0AZ")
    assert b"AOhzlib|AAHZ-0001|AD246810|AY1AZ" in patron
    # the card password is nowhere but on the wire to the library
    assert all(PASSWORD not in str(e.detail) for e in AuditEntry.objects.all())
    assert PASSWORD not in caplog.text


@pytest.mark.parametrize(
    ("number", "password", "reason"),
    [
        ("HZ-0001", "999999", "wrong_password"),
        ("HZ-9999", PASSWORD, "not_a_patron"),
        ("HZ-0002", "1357", "blocked"),
    ],
)
def test_a_card_the_library_system_refuses_is_not_linked(
    alice, sip2_library, number, password, reason
):
    with pytest.raises(LinkCheckFailed) as refused:
        link(alice, sip2_library, number, password)
    assert refused.value.code == "link_check_failed"
    assert refused.value.http_status == 422
    assert refused.value.fields == {"card_number": "读者证号或密码不正确，或该证在成员馆已停用"}
    assert Card.objects.count() == 0
    (attempt,) = CardLinkRequest.objects.all()
    assert (attempt.status, attempt.method, attempt.card_number, attempt.decision_note) == (
        "failed",
        "sip2",
        number,
        reason,
    )
    failed = AuditEntry.objects.get(action="card.link_failed")
    assert failed.detail == {"number": number, "method": "sip2", "reason": reason}


def test_guessing_passwords_is_throttled(alice, bob, sip2_library, acs):
    for attempt in range(5):
        with pytest.raises(LinkCheckFailed):
            link(alice, sip2_library, "HZ-0001", f"guess{attempt}")
    sent = len(acs.received)
    with pytest.raises(TooManyLinkAttempts) as throttled:
        link(alice, sip2_library, "HZ-0001", PASSWORD)
    assert (throttled.value.code, throttled.value.http_status) == ("too_many_attempts", 429)
    assert len(acs.received) == sent  # the library's system was not asked again
    # the card number is protected too, whoever asks
    with pytest.raises(TooManyLinkAttempts):
        link(bob, sip2_library, "HZ-0001", PASSWORD)
    assert Card.objects.count() == 0


def test_password_is_required_for_a_sip2_check(alice, sip2_library, acs):
    with pytest.raises(InvalidInput) as missing:
        link(alice, sip2_library, "HZ-0001", "")
    assert missing.value.fields == {"password": "请输入该读者证的密码"}
    assert acs.received == []


@pytest.mark.parametrize("number", ["", "HZ|0001", "卡号", "x" * 41])
def test_malformed_card_numbers_are_refused_before_any_call(alice, sip2_library, acs, number):
    with pytest.raises(InvalidInput) as invalid:
        link(alice, sip2_library, number)
    assert list(invalid.value.fields) == ["card_number"]
    assert acs.received == []


def test_an_unreachable_library_system_changes_nothing(alice, hangzhou, operator):
    update_library(
        actor=operator,
        library=hangzhou,
        settings_values={"link_card_check": "sip2", "sip2_host": "127.0.0.1", "sip2_port": 9},
    )
    hangzhou.refresh_from_db()
    with pytest.raises(LinkCheckUnavailable) as unavailable:
        link(alice, hangzhou, "HZ-0001")
    assert unavailable.value.http_status == 503
    assert (Card.objects.count(), CardLinkRequest.objects.count()) == (0, 0)


def test_a_number_linked_by_someone_else_is_refused_without_asking(alice, bob, sip2_library, acs):
    link(alice, sip2_library, "HZ-0001")
    sent = len(acs.received)
    with pytest.raises(CardNumberTaken):
        link(bob, sip2_library, "HZ-0001")
    assert len(acs.received) == sent


def test_utf8_library_system_without_login(alice, hangzhou, operator):
    with FakeAcs(patrons={"330100A1": FakePatron("8888", name="林晓雨")}) as utf8_acs:
        update_library(
            actor=operator,
            library=hangzhou,
            settings_values={
                "link_card_check": "sip2",
                "sip2_host": utf8_acs.host,
                "sip2_port": utf8_acs.port,
            },
        )
        hangzhou.refresh_from_db()
        outcome = link(alice, hangzhou, "330100A1", "8888")
    assert outcome.status == "activated"
    (patron,) = utf8_acs.received
    assert patron.startswith(b"63")


def test_a_deposit_card_the_reader_holds_is_activated_without_a_check(
    alice, sip2_library, hz_desk, acs
):
    card = issue_deposit_card(actor=hz_desk, reader=alice, library=sip2_library, deposit_fen=10000)
    assert card.service_activated_at is None
    outcome = link(alice, sip2_library, card.number, "")
    assert outcome.status == "activated"
    card.refresh_from_db()
    assert card.service_activated_at is not None
    assert acs.received == []
    assert outcome.request.method == "held"
    # again: nothing more happens
    again = link(alice, sip2_library, card.number, "")
    assert again.card.service_activated_at == card.service_activated_at
    assert CardLinkRequest.objects.count() == 1
