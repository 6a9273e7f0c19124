"""Helpers for the card tests: the real flows that
put a reader in a given state (admitted through the credit services, reviewed by a library)."""

from __future__ import annotations

from xinyue.cards.models import ManualReview
from xinyue.cards.services.issuing import approve_manual_review, request_manual_review
from xinyue.core.actors import Actor
from xinyue.libraries.models import Library
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor


def approved_review(reader: Reader, library: Library, staff: Actor) -> ManualReview:
    """The reader asks ``library`` for a manual review and its staff approve it."""
    review = request_manual_review(actor=reader_actor(reader), reader=reader, library=library)
    return approve_manual_review(actor=staff, review=review, note="到馆核验")
