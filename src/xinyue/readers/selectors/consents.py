"""Reads about consents: ``has_consent`` (the credit app asks before any provider call) and the states
shown on the account page and in the API."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.utils.translation import gettext

from xinyue.readers.models import Consent, ConsentPurpose, ConsentText, Reader


def _required_version(purpose: str) -> int:
    """The lowest text version a consent must be for: the latest that required re-consent."""
    last = (
        ConsentText.objects.filter(purpose=purpose, requires_reconsent=True)
        .order_by("-version")
        .values_list("version", flat=True)
        .first()
    )
    return last or 1


def has_consent(*, reader: Reader, purpose: str) -> bool:
    """Whether ``reader`` currently consents to ``purpose`` (``credit_check``,
    ``share_borrowing``, ``id_number``): an active, not withdrawn consent to a text version that
    still counts. Unknown purposes are never consented."""
    if not reader.is_active:
        return False
    return reader.pk in readers_consenting(reader_ids=[reader.pk], purpose=purpose)


def readers_consenting(*, reader_ids: Sequence[int], purpose: str) -> set[int]:
    """Which of ``reader_ids`` currently consent to ``purpose`` (as ``has_consent``, whose one
    query this is; the caller checks the accounts are active). One statement for many readers:
    placing checks a whole batch of orders at once."""
    ids = sorted(set(reader_ids))
    if purpose not in ConsentPurpose.values or not ids:
        return set()
    # Written as SQL (every order re-checks admittance, and with it this): the required version
    # is a subquery, read fresh each time — nothing to invalidate when the operator publishes a
    # text that requires re-consent.
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT reader_id FROM readers_consent WHERE purpose = %s"
            f" AND reader_id IN ({marks})"
            " AND withdrawn_at IS NULL AND version >= COALESCE(("
            "SELECT MAX(version) FROM readers_consenttext"
            " WHERE purpose = %s AND requires_reconsent = %s), 1)",
            [purpose, *ids, purpose, True],
        )
        return {row[0] for row in cursor.fetchall()}


@dataclass(frozen=True)
class ConsentState:
    purpose: str
    label: str
    title: str
    current_version: int
    granted: bool
    granted_version: int | None
    granted_at: datetime | None
    withdrawn_at: datetime | None  # of the latest consent, if it was withdrawn
    needs_renewal: bool  # consented to a version that no longer counts


def consent_states(*, reader: Reader) -> list[ConsentState]:
    texts = {}
    for text in ConsentText.objects.order_by("purpose", "-version"):
        texts.setdefault(text.purpose, text)
    latest: dict[str, Consent] = {}
    for consent in Consent.objects.filter(reader=reader).order_by("granted_at", "id"):
        latest[consent.purpose] = consent
    states = []
    for purpose in ConsentPurpose:
        text = texts.get(purpose.value)
        consent = latest.get(purpose.value)
        active = consent is not None and consent.withdrawn_at is None
        counts = active and consent.version >= _required_version(purpose.value)
        states.append(
            ConsentState(
                purpose=purpose.value,
                label=str(purpose.label),
                title=gettext(text.title) if text else str(purpose.label),
                current_version=text.version if text else 1,
                granted=bool(counts),
                granted_version=consent.version if active else None,
                granted_at=consent.granted_at if active else None,
                withdrawn_at=consent.withdrawn_at if consent and not active else None,
                needs_renewal=active and not counts,
            )
        )
    return states


# Borrowing on credit (credit orders at the provider) needs both: the check of the reader's credit
# and the sharing of their borrowing records with the provider.
CREDIT_BORROWING_CONSENTS = ("credit_check", "share_borrowing")


def consents_missing_for_credit_borrowing(*, reader: Reader) -> list[ConsentState]:
    """The consents credit borrowing needs that ``reader`` does not give now (withdrawn, never
    given or to be renewed). While any is missing, borrowing on credit is paused: the card stays
    valid, loans already made are returned as usual."""
    return [
        state
        for state in consent_states(reader=reader)
        if state.purpose in CREDIT_BORROWING_CONSENTS and not state.granted
    ]


def consent_history(*, reader: Reader) -> list[Consent]:
    return list(Consent.objects.filter(reader=reader).order_by("granted_at", "id"))


def current_texts() -> list[ConsentText]:
    texts: dict[str, ConsentText] = {}
    for text in ConsentText.objects.order_by("purpose", "-version"):
        texts.setdefault(text.purpose, text)
    return [texts[p] for p in ConsentPurpose.values if p in texts]
