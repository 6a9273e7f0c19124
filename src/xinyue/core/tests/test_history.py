"""History written once (``core.history.record_transition``): the event row, the audit row and
the webhook of one transition, written together or not at all."""

from __future__ import annotations

import pytest
from django.db import transaction

from xinyue.cards.models import CardEvent
from xinyue.cards.services.issuing import issue_deposit_card
from xinyue.core import audit as audit_log
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.history import Audit, Webhook, record_transition, record_transitions
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import WebhookDelivery
from xinyue.libraries.services import subscribe_webhook
from xinyue.readers.services.identity import register_reader


@pytest.fixture
def card(hangzhou, hz_admin):
    reader = register_reader(
        id_number="330106199001010026",
        name="林晓雨",
        phone="13812345678",
        password="read-more-books-7",
        consents=("id_number",),
    )
    subscribe_webhook(actor=hz_admin, library=hangzhou, url="https://ils.example/hook")
    return issue_deposit_card(actor=SYSTEM, reader=reader, library=hangzhou, deposit_fen=10000)


def transition(card, hangzhou):
    return record_transition(
        CardEvent,
        card=card,
        actor=SYSTEM.via(Channel.DESK),
        from_state="active",
        to_state="suspended",
        note="lost",
        audit=Audit("card.suspended", library_code="330100", detail={"reason": "lost"}),
        webhook=Webhook(hangzhou, "card.suspended", {"number": card.number}),
    )


@pytest.mark.django_db
def test_one_call_writes_the_event_the_audit_row_and_the_webhook(card, hangzhou):
    events, entries, deliveries = (
        CardEvent.objects.count(),
        AuditEntry.objects.count(),
        WebhookDelivery.objects.count(),
    )
    row = transition(card, hangzhou)
    assert (row.card_id, row.from_state, row.to_state, row.channel, row.note) == (
        card.pk,
        "active",
        "suspended",
        "desk",
        "lost",
    )
    assert CardEvent.objects.count() == events + 1
    entry = AuditEntry.objects.latest("id")
    assert AuditEntry.objects.count() == entries + 1
    assert (entry.action, entry.object_id, entry.library_code, entry.channel, entry.detail) == (
        "card.suspended",
        str(card.pk),
        "330100",
        "desk",
        {"reason": "lost"},
    )
    delivery = WebhookDelivery.objects.latest("id")
    assert WebhookDelivery.objects.count() == deliveries + 1
    assert (delivery.event_type, delivery.payload["data"]) == (
        "card.suspended",
        {"number": card.number},
    )


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_history(card, hangzhou):
    before = (
        CardEvent.objects.count(),
        AuditEntry.objects.count(),
        WebhookDelivery.objects.count(),
    )

    def failing_service() -> None:
        with transaction.atomic():
            transition(card, hangzhou)
            raise RuntimeError("the service failed afterwards")

    with pytest.raises(RuntimeError):
        failing_service()
    after = (CardEvent.objects.count(), AuditEntry.objects.count(), WebhookDelivery.objects.count())
    assert after == before


@pytest.mark.django_db
def test_without_options_only_the_event_row(card):
    entries, deliveries = AuditEntry.objects.count(), WebhookDelivery.objects.count()
    record_transition(CardEvent, card=card, actor=SYSTEM, from_state="active", to_state="active")
    assert (AuditEntry.objects.count(), WebhookDelivery.objects.count()) == (entries, deliveries)


def test_a_batch_of_transitions_is_written_as_one_at_a_time_would_be(card):
    """``record_transitions`` (through ``core.rows.insert_rows``, no query compiler) writes the
    same rows as ``record_transition`` and ``bulk_create``: dates, JSON details, relations, ids."""
    actor = SYSTEM.via(Channel.DESK)
    single = record_transition(
        CardEvent,
        card=card,
        actor=actor,
        from_state="active",
        to_state="suspended",
        note="lost",
        audit=Audit("card.suspended", detail={"reason": "丢失", "n": [1, 2]}),
    )
    events = [
        CardEvent.build(card=card, actor=actor, from_state="suspended", to_state=s, note=s)
        for s in ("active", "closed")
    ]
    audits = [
        audit_log.entry(actor=actor, action="card.suspended", obj=card, reason="丢失", n=[1, 2])
    ]
    before = AuditEntry.objects.count()
    record_transitions(events, audits)
    assert all(e.pk for e in events)
    assert events[0].pk < events[1].pk
    rows = list(CardEvent.objects.filter(card=card).order_by("id"))
    assert [(r.from_state, r.to_state, r.note, r.channel) for r in rows[-3:]] == [
        ("active", "suspended", "lost", "desk"),
        ("suspended", "active", "active", "desk"),
        ("suspended", "closed", "closed", "desk"),
    ]
    assert [r.pk for r in rows[-2:]] == [e.pk for e in events]
    assert rows[-1].at is not None
    assert rows[-1].at >= single.at
    assert AuditEntry.objects.count() == before + 1
    written = AuditEntry.objects.order_by("-id").first()
    first = AuditEntry.objects.filter(action="card.suspended").order_by("id").first()
    assert (written.detail, written.object_type, written.object_id, written.channel) == (
        first.detail,
        first.object_type,
        first.object_id,
        "desk",
    )
    assert written.at is not None
