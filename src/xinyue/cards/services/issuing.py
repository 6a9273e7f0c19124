"""Cards: issuing credit and deposit cards, suspending, reinstating, cancelling, manual reviews.

Every change runs in one transaction, writes a ``CardEvent`` (state changes of a card) and an
audit row, and tells the library's systems through a signed webhook (masked data only) after
commit. Card numbers come from the library's series (``card_prefix`` + running number), allocated
under the series row's lock so that concurrent issues never share a number.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from xinyue.cards.errors import (
    AlreadyAdmitted,
    CardAlreadyHeld,
    CardStateConflict,
    LibraryNotAccepting,
    NotAdmitted,
    ReaderInactive,
    RequestNotPending,
)
from xinyue.cards.models import Card, CardEvent, CardSeries, ManualReview
from xinyue.cards.selectors import Eligibility, card_eligibility, masked_reader
from xinyue.core import audit, clock
from xinyue.core.actors import SYSTEM, Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.history import Audit, Webhook, record_transition
from xinyue.core.permissions import Action, require_library, require_reader
from xinyue.libraries.models import Library
from xinyue.libraries.services import publish_library_event
from xinyue.libraries.settings_schema import library_setting
from xinyue.readers.masking import mask_id_number
from xinyue.readers.models import Reader

NUMBER_DIGITS = 8
MAX_DEPOSIT_FEN = 100_000  # 1,000 yuan: above any deposit a public library asks
REASON_MAX = 200


# --- shared checks -----------------------------------------------------------------------------


def require_self(actor: Actor, reader: Reader) -> None:
    """Only the reader themself (or a system job) asks for their cards."""
    require_reader(actor, reader.pk, Action.REQUEST_CARD, message=_("只能办理自己的读者证"))


def require_open_library(library: Library) -> None:
    if not library.is_active:
        raise LibraryNotAccepting(library_code=library.code)


def require_active_reader(reader: Reader) -> None:
    if not reader.is_active or reader.deleted_at is not None:
        raise ReaderInactive()


def clean_reason(reason: str, field: str = "reason") -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(fields={field: _("请填写原因")})
    if len(reason) > REASON_MAX:
        raise InvalidInput(fields={field: _("不超过 %(max)s 字") % {"max": REASON_MAX}})
    return reason


def _event(
    card: Card, actor: Actor, from_state: str, to_state: str, note: str = "", **options: Any
) -> None:
    record_transition(
        CardEvent,
        card=card,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        **options,
    )


def card_webhook_data(card: Card) -> dict[str, Any]:
    """What a library system hears about a card: the card, and the reader masked."""
    return {
        "card_number": card.number,
        "kind": card.kind,
        "status": card.status,
        "deposit_fen": card.deposit_fen,
        "issued_at": card.issued_at.isoformat(),
        "service_activated_at": (
            card.service_activated_at.isoformat() if card.service_activated_at else None
        ),
        "reader": masked_reader(card.reader),
    }


# --- numbering ---------------------------------------------------------------------------------


def allocate_card_number(*, library: Library) -> str:
    """The next number of ``library``'s series; call inside the issuing transaction.

    The series row is created once (``INSERT … ON CONFLICT DO NOTHING``), then bumped with one
    ``UPDATE … SET last_number = last_number + 1``: on PostgreSQL the row lock orders concurrent
    issues, on SQLite the IMMEDIATE transaction does. Numbers already taken by a linked card of
    the library's own system are skipped.
    """
    CardSeries.objects.bulk_create([CardSeries(library=library)], ignore_conflicts=True)
    prefix = library_setting(library, "card_prefix")
    while True:
        CardSeries.objects.filter(library=library).update(last_number=F("last_number") + 1)
        number = CardSeries.objects.filter(library=library).values_list("last_number", flat=True)[0]
        candidate = f"{prefix}{number:0{NUMBER_DIGITS}d}"
        if not Card.objects.filter(library=library, number=candidate).exists():
            return candidate


def create_card_row(
    *,
    actor: Actor,
    reader: Reader,
    library: Library,
    kind: str,
    deposit_fen: int = 0,
    number: str | None = None,
    activate: bool,
    note: str,
) -> Card:
    """Insert the card after the series lock is held, so the one-card check cannot race."""
    number = number or allocate_card_number(library=library)
    if (
        Card.objects.filter(reader=reader, library=library)
        .exclude(status=Card.Status.CANCELLED)
        .exists()
    ):
        raise CardAlreadyHeld(library_code=library.code)
    now = clock.now()
    try:
        with transaction.atomic():
            card = Card.objects.create(
                reader=reader,
                library=library,
                number=number,
                kind=kind,
                status=Card.Status.ACTIVE,
                deposit_fen=deposit_fen,
                issued_at=now,
                service_activated_at=now if activate else None,
            )
    except IntegrityError:
        raise CardAlreadyHeld(library_code=library.code) from None
    _event(card, actor, "", Card.Status.ACTIVE, note + (" service_activated" if activate else ""))
    return card


# --- issuing -----------------------------------------------------------------------------------


@transaction.atomic
def issue_credit_card(*, actor: Actor, reader: Reader, library: Library) -> Card:
    """A deposit-free card at ``library`` for an admitted reader (or one the library approved
    after a manual review). Admittance is re-checked here, never trusted from the page."""
    require_self(actor, reader)
    require_active_reader(reader)
    require_open_library(library)
    eligibility = card_eligibility(reader=reader, library=library)
    if not eligibility.eligible:
        if eligibility.reason_code == "card_held":
            raise CardAlreadyHeld(library_code=library.code)
        raise NotAdmitted(
            eligibility.reason,
            reason=eligibility.reason_code,
            provider=eligibility.provider,
            threshold=eligibility.threshold,
            alternatives=[a["code"] for a in eligibility.alternatives],
        )
    review = None
    if eligibility.basis == "manual_review":
        review = (
            ManualReview.objects.select_for_update()
            .filter(reader=reader, library=library, status=ManualReview.Status.APPROVED)
            .first()
        )
        if review is None:  # used by a concurrent request a moment ago
            raise CardAlreadyHeld(library_code=library.code)
    card = create_card_row(
        actor=actor,
        reader=reader,
        library=library,
        kind=Card.Kind.CREDIT,
        activate=True,
        note=f"basis={eligibility.basis}"
        + (f" provider={eligibility.provider}" if eligibility.provider else "")
        + (f" review={review.pk}" if review else ""),
    )
    if review is not None:
        review.status = ManualReview.Status.USED
        review.card = card
        review.save(update_fields=["status", "card", "updated_at"])
    audit.record(
        actor=actor,
        action="card.issued",
        obj=card,
        library_code=library.code,
        number=card.number,
        kind=card.kind,
        basis=eligibility.basis,
        provider=eligibility.provider,
        threshold=eligibility.threshold,
        review_id=review.pk if review else None,
    )
    publish_library_event(library=library, event_type="card.issued", data=card_webhook_data(card))
    return card


@transaction.atomic
def issue_deposit_card(*, actor: Actor, reader: Reader, library: Library, deposit_fen: int) -> Card:
    """A card with a deposit, issued by the library's desk (the way forward without credit)."""
    require_library(actor, library.pk)
    require_active_reader(reader)
    require_open_library(library)
    if isinstance(deposit_fen, bool) or not isinstance(deposit_fen, int):
        raise InvalidInput(fields={"deposit_fen": _("押金应为整数（分）")})
    if not 0 < deposit_fen <= MAX_DEPOSIT_FEN:
        raise InvalidInput(fields={"deposit_fen": _("押金应在 0.01–1000.00 元之间")})
    card = create_card_row(
        actor=actor,
        reader=reader,
        library=library,
        kind=Card.Kind.DEPOSIT,
        deposit_fen=deposit_fen,
        activate=False,
        note=f"deposit_fen={deposit_fen}",
    )
    audit.record(
        actor=actor,
        action="card.issued",
        obj=card,
        library_code=library.code,
        number=card.number,
        kind=card.kind,
        deposit_fen=deposit_fen,
    )
    publish_library_event(library=library, event_type="card.issued", data=card_webhook_data(card))
    return card


# --- status changes ----------------------------------------------------------------------------

TRANSITIONS = {
    "suspend": ({Card.Status.ACTIVE}, Card.Status.SUSPENDED),
    "reinstate": ({Card.Status.SUSPENDED}, Card.Status.ACTIVE),
    "cancel": ({Card.Status.ACTIVE, Card.Status.SUSPENDED}, Card.Status.CANCELLED),
}


def _change_status(*, actor: Actor, card: Card, verb: str, reason: str) -> Card:
    require_library(actor, card.library_id)
    reason = clean_reason(reason)
    card = Card.objects.select_for_update().select_related("library", "reader").get(pk=card.pk)
    allowed, target = TRANSITIONS[verb]
    if card.status not in allowed:
        raise CardStateConflict(status=card.status, action=verb)
    before = card.status
    card.status = target
    card.status_reason = reason
    card.save(update_fields=["status", "status_reason", "updated_at"])
    event_type = {"suspend": "suspended", "reinstate": "reinstated", "cancel": "cancelled"}[verb]
    _event(
        card,
        actor,
        before,
        target,
        reason,
        audit=Audit(
            f"card.{event_type}",
            library_code=card.library.code,
            detail={"number": card.number, "reason": reason},
        ),
        webhook=Webhook(
            card.library, f"card.{event_type}", {**card_webhook_data(card), "reason": reason}
        ),
    )
    return card


@transaction.atomic
def suspend_card(*, actor: Actor, card: Card, reason: str) -> Card:
    """Staff of the card's library or the operator; the reason is shown to the reader."""
    return _change_status(actor=actor, card=card, verb="suspend", reason=reason)


@transaction.atomic
def reinstate_card(*, actor: Actor, card: Card, reason: str) -> Card:
    return _change_status(actor=actor, card=card, verb="reinstate", reason=reason)


@transaction.atomic
def cancel_card(*, actor: Actor, card: Card, reason: str) -> Card:
    """Final: the number stays taken; the reader may get a new card at that library later."""
    return _change_status(actor=actor, card=card, verb="cancel", reason=reason)


# --- manual review (the way forward after a refusal) -------------------------------------------


@transaction.atomic
def request_manual_review(
    *, actor: Actor, reader: Reader, library: Library, message: str = ""
) -> ManualReview:
    """A refused (or not yet admitted) reader asks ``library`` to decide in person or on file.

    Idempotent: a pending or approved review for the same library is returned as it is.
    """
    require_self(actor, reader)
    require_active_reader(reader)
    require_open_library(library)
    message = (message or "").strip()
    if len(message) > 300:
        raise InvalidInput(fields={"message": _("不超过 %(max)s 字") % {"max": 300}})
    existing = ManualReview.objects.filter(
        reader=reader,
        library=library,
        status__in=[ManualReview.Status.PENDING, ManualReview.Status.APPROVED],
    ).first()
    if existing is not None:
        return existing
    eligibility = card_eligibility(reader=reader, library=library)
    if eligibility.reason_code == "card_held":
        raise CardAlreadyHeld(library_code=library.code)
    if eligibility.eligible:
        raise AlreadyAdmitted()
    try:
        with transaction.atomic():
            review = ManualReview.objects.create(
                reader=reader,
                library=library,
                message=message,
                refusal_reason=eligibility.reason_code,
            )
    except IntegrityError:
        return ManualReview.objects.get(
            reader=reader,
            library=library,
            status__in=[ManualReview.Status.PENDING, ManualReview.Status.APPROVED],
        )
    audit.record(
        actor=actor,
        action="card_review.requested",
        obj=review,
        library_code=library.code,
        refusal_reason=eligibility.reason_code,
    )
    return review


def _decide_review(*, actor: Actor, review: ManualReview, approve: bool, note: str) -> ManualReview:
    require_library(actor, review.library_id)
    review = ManualReview.objects.select_for_update().select_related("library").get(pk=review.pk)
    if review.status != ManualReview.Status.PENDING:
        raise RequestNotPending(status=review.status)
    review.status = ManualReview.Status.APPROVED if approve else ManualReview.Status.REFUSED
    review.decided_at = clock.now()
    review.decided_by = actor.ref
    review.decided_by_label = actor.label[:120]
    review.decision_note = note
    review.save(
        update_fields=[
            "status",
            "decided_at",
            "decided_by",
            "decided_by_label",
            "decision_note",
            "updated_at",
        ]
    )
    audit.record(
        actor=actor,
        action="card_review.approved" if approve else "card_review.refused",
        obj=review,
        library_code=review.library.code,
        note=note,
    )
    return review


@transaction.atomic
def approve_manual_review(*, actor: Actor, review: ManualReview, note: str = "") -> ManualReview:
    """The library agrees to a deposit-free card without credit admittance; the reader then gets
    it like any credit card (at this library only, once)."""
    note = (note or "").strip()[:REASON_MAX]
    return _decide_review(actor=actor, review=review, approve=True, note=note)


@transaction.atomic
def refuse_manual_review(*, actor: Actor, review: ManualReview, reason: str) -> ManualReview:
    """Refused with a reason the reader sees; the deposit card at the desk remains open to them."""
    return _decide_review(actor=actor, review=review, approve=False, note=clean_reason(reason))


# --- the desk: looking a reader up ---------------------------------------------------------------


@dataclass(frozen=True)
class DeskReader:
    """A reader as the desk of one library sees them: masked, with that library's cards only."""

    reader: Reader
    masked: dict[str, Any]
    cards: list[Card]
    cards_elsewhere: int
    eligibility: Eligibility


def look_up_reader(
    *, actor: Actor, library: Library, id_number: str = "", card_number: str = ""
) -> DeskReader | None:
    """Find a reader by full ID number (blind index) or by a card number of ``library``.

    Staff of ``library`` (or the operator) only; every lookup, found or not, is audited with the
    ID number masked. Results are masked; only this library's cards are listed.
    """
    require_library(actor, library.pk)
    id_number = (id_number or "").strip()
    card_number = (card_number or "").strip()
    if bool(id_number) == bool(card_number):
        raise InvalidInput(fields={"id_number": _("请输入身份证号或读者证号（二选一）")})
    reader = None
    if id_number:
        from xinyue.readers.selectors import reader_by_id_number
        from xinyue.readers.validation import parse_id_number

        id_number = parse_id_number(id_number).number  # a clear field error when malformed
        reader = reader_by_id_number(id_number=id_number)
    else:
        card = Card.objects.filter(library=library, number=card_number).first()
        reader = card.reader if card is not None else None
    if reader is not None and reader.deleted_at is not None:
        reader = None
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="reader.looked_up",
            obj=reader,
            object_type="readers.reader",
            library_code=library.code,
            by="id_number" if id_number else "card_number",
            query=mask_id_number(id_number) if id_number else card_number,
            found=reader is not None,
        )
    if reader is None:
        return None
    cards = list(
        Card.objects.filter(reader=reader, library=library).select_related("library").order_by("id")
    )
    elsewhere = (
        Card.objects.filter(reader=reader)
        .exclude(library=library)
        .exclude(status=Card.Status.CANCELLED)
        .count()
    )
    return DeskReader(
        reader=reader,
        masked=masked_reader(reader),
        cards=cards,
        cards_elsewhere=elsewhere,
        eligibility=card_eligibility(reader=reader, library=library),
    )


# --- the reader's rights (used by account deletion) -----------------------------------------------


@transaction.atomic
def withdraw_reader_requests(*, actor: Actor, reader: Reader) -> int:
    """On account deletion: withdraw the reader's open link requests and manual reviews and
    erase what they wrote in them. Decided requests keep their outcome (the record of what the
    library did), without the reader's free text. Returns how many open ones were withdrawn."""
    from xinyue.cards.models import CardLinkRequest

    now = clock.now()
    withdrawn = CardLinkRequest.objects.filter(
        reader=reader, status=CardLinkRequest.Status.PENDING
    ).update(status=CardLinkRequest.Status.WITHDRAWN, decided_at=now, decided_by=actor.ref)
    withdrawn += ManualReview.objects.filter(
        reader=reader,
        status__in=[ManualReview.Status.PENDING, ManualReview.Status.APPROVED],
    ).update(status=ManualReview.Status.WITHDRAWN, decided_at=now, decided_by=actor.ref)
    ManualReview.objects.filter(reader=reader).exclude(message="").update(message="")
    if withdrawn:
        audit.record(
            actor=actor,
            action="card_requests.withdrawn",
            obj=reader,
            withdrawn=withdrawn,
        )
    return withdrawn


def erase_reader_cards(*, actor: Actor, reader: Reader) -> dict[str, int]:
    """The reader deletes their account (a rights hook, inside the deletion's transaction): every
    open card is cancelled, as the system (the reader asked for it), with this service's rules,
    events and webhooks; open link requests and reviews are withdrawn."""
    system = SYSTEM.via(actor.channel)
    reason = _("读者注销账户")
    count = 0
    for card in Card.objects.filter(reader=reader).exclude(status=Card.Status.CANCELLED):
        cancel_card(actor=system, card=card, reason=reason)
        count += 1
    withdraw_reader_requests(actor=SYSTEM, reader=reader)
    return {"cards_cancelled": count}
