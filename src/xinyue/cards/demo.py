"""Demo cards (idempotent): every admitted demo reader gets a deposit-free card at their home
city's library; a refused one has a manual review waiting at that library's desk.

Called from the readers demo and again after the credit demo has decided admittances (readers
come before credit in INSTALLED_APPS), so that either order ends with the same cards.
"""

from __future__ import annotations

from typing import Any

from xinyue.cards.models import Card, ManualReview
from xinyue.cards.services.issuing import issue_credit_card, request_manual_review
from xinyue.core.actors import Channel
from xinyue.credit.selectors import current_admittance
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import operator_library
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor


def home_library(reader: Reader) -> Library | None:
    """The city library of the reader's registered region (from the ID number), else the
    province's."""
    if reader.region_code:
        city = Library.objects.filter(
            code=reader.region_code[:4] + "00", level=Library.Level.CITY, is_active=True
        ).first()
        if city is not None:
            return city
    return operator_library()


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    issued = reviews = 0
    for reader in Reader.objects.filter(is_active=True, deleted_at__isnull=True).order_by("id"):
        library = home_library(reader)
        if library is None:
            continue
        admittance = current_admittance(reader=reader)
        if admittance is None:
            continue
        actor = reader_actor(reader, channel=Channel.PC)
        if admittance.admitted:
            if not Card.objects.filter(reader=reader).exists():
                issue_credit_card(actor=actor, reader=reader, library=library)
                issued += 1
        elif not ManualReview.objects.filter(reader=reader).exists():
            request_manual_review(
                actor=actor, reader=reader, library=library, message="刚搬来本市，请人工审核"
            )
            reviews += 1
    stdout.write(f"demo cards ready ({issued} issued, {reviews} reviews waiting)")
    return []
