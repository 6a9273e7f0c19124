"""Reads about cards: a reader's cards, whether they may get a deposit-free card (and if not,
why and what else they can do), the staff queues, and the masked view of a reader."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinyue.cards.models import Card, CardLinkRequest, ManualReview
from xinyue.core.actors import Actor
from xinyue.core.permissions import library_scope, require_library
from xinyue.credit.selectors import current_admittance
from xinyue.libraries.models import Library
from xinyue.readers.masking import mask_id_number, mask_name
from xinyue.readers.models import Reader

# Shorter than the provider's full label: it starts a sentence on the card pages.
PROVIDER_LABELS = {
    "zhima": gettext_lazy("芝麻信用"),
    "wechat_payscore": gettext_lazy("微信支付分"),
    "sandbox": gettext_lazy("信用沙箱"),
}


def provider_label(provider: str) -> str:
    return str(PROVIDER_LABELS.get(provider, provider))


# --- eligibility -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Eligibility:
    """Whether ``reader`` may get a deposit-free card now, on what basis, or why not and the
    ways forward (``alternatives``: codes ``authorize``, ``manual_review``, ``deposit_card``,
    ``link_card``; never empty when refused)."""

    eligible: bool
    basis: str  # "credit" | "manual_review" | ""
    reason_code: str  # admitted | review_approved | card_held | not_authorized | refused
    reason: str
    provider: str = ""
    threshold: int | None = None
    expires_at: dt.datetime | None = None
    alternatives: list[dict[str, str]] = field(default_factory=list)
    review: ManualReview | None = None


def _alternatives(codes: list[str], review: ManualReview | None) -> list[dict[str, str]]:
    texts = {
        "authorize": (_("完成信用授权"), _("授权信用评估，达到准入分即可免押金办证。")),
        "manual_review": (
            _("申请成员馆人工审核"),
            _("由您选择的成员馆审核，通过后可免押金办证。"),
        ),
        "deposit_card": (
            _("到馆办理押金读者证"),
            _("携带身份证到任一成员馆服务台，缴纳押金即可办证。"),
        ),
        "link_card": (
            _("绑定已有读者证"),
            _("已在成员馆办过读者证？绑定后即可开通信阅服务。"),
        ),
    }
    items = []
    for code in codes:
        label, description = texts[code]
        item = {"code": code, "label": str(label), "description": str(description)}
        if code == "manual_review" and review is not None:
            item["status"] = review.status
            if review.status == ManualReview.Status.PENDING:
                item["description"] = str(_("您的审核申请已提交，成员馆处理后会在此显示结果。"))
            elif review.status == ManualReview.Status.REFUSED:
                item["description"] = str(_("成员馆未通过审核：%(note)s")) % {
                    "note": review.decision_note
                }
        items.append(item)
    return items


def card_eligibility(*, reader: Reader, library: Library | None = None) -> Eligibility:
    """The decision the card services enforce, also shown on pages and the API before asking."""
    if library is not None:
        held = (
            Card.objects.filter(reader=reader, library=library)
            .exclude(status=Card.Status.CANCELLED)
            .first()
        )
        if held is not None:
            return Eligibility(
                eligible=False,
                basis="",
                reason_code="card_held",
                reason=str(_("您在该馆已有读者证（%(number)s）")) % {"number": held.number},
            )
    admittance = current_admittance(reader=reader)
    if admittance is not None and admittance.admitted:
        return Eligibility(
            eligible=True,
            basis="credit",
            reason_code="admitted",
            reason=str(_("已通过信用评估（%(provider)s）"))
            % {"provider": provider_label(admittance.provider)},
            provider=admittance.provider,
            threshold=admittance.threshold,
            expires_at=admittance.expires_at,
        )
    review = None
    if library is not None:
        review = (
            ManualReview.objects.filter(reader=reader, library=library)
            .exclude(status__in=[ManualReview.Status.USED, ManualReview.Status.WITHDRAWN])
            .order_by("-created_at", "-id")
            .first()
        )
        if review is not None and review.status == ManualReview.Status.APPROVED:
            return Eligibility(
                eligible=True,
                basis="manual_review",
                reason_code="review_approved",
                reason=str(_("%(library)s 已通过人工审核")) % {"library": library.name},
                review=review,
            )
    if admittance is None:
        return Eligibility(
            eligible=False,
            basis="",
            reason_code="not_authorized",
            reason=str(_("尚未完成信用授权，或授权结果已过期")),
            alternatives=_alternatives(
                ["authorize", "link_card", "manual_review", "deposit_card"], review
            ),
            review=review,
        )
    return Eligibility(
        eligible=False,
        basis="",
        reason_code="refused",
        reason=str(
            _("%(provider)s 信用评估未达到平台准入标准（%(threshold)s 分），暂不能免押金办证")
        )
        % {"provider": provider_label(admittance.provider), "threshold": admittance.threshold},
        provider=admittance.provider,
        threshold=admittance.threshold,
        alternatives=_alternatives(["manual_review", "deposit_card", "link_card"], review),
        review=review,
    )


# --- cards ---------------------------------------------------------------------------------------


def reader_cards(*, reader: Reader, include_cancelled: bool = True) -> QuerySet[Card]:
    qs = Card.objects.filter(reader=reader).select_related("library").order_by("issued_at", "id")
    return qs if include_cancelled else qs.exclude(status=Card.Status.CANCELLED)


def reader_card_at(*, reader: Reader, library: Library) -> Card | None:
    """The reader's open (not cancelled) card at ``library``."""
    return (
        Card.objects.filter(reader=reader, library=library)
        .exclude(status=Card.Status.CANCELLED)
        .select_related("library")
        .first()
    )


def library_card(*, actor: Actor, library: Library, number: str) -> Card | None:
    """A card of ``library`` by number, for its staff (or the operator)."""
    require_library(actor, library.pk)
    return (
        Card.objects.filter(library=library, number=number.strip())
        .select_related("library", "reader")
        .first()
    )


def card_counts(*, library: Library) -> dict[str, int]:
    """Cards issued at ``library`` by kind (all statuses): the library's count."""
    rows = Card.objects.filter(library=library).values("kind").annotate(n=Count("id"))
    counts = dict.fromkeys(Card.Kind.values, 0)
    counts.update({row["kind"]: row["n"] for row in rows})
    return counts


def reader_reviews(*, reader: Reader) -> QuerySet[ManualReview]:
    return ManualReview.objects.filter(reader=reader).select_related("library")


def reader_link_requests(*, reader: Reader) -> QuerySet[CardLinkRequest]:
    return CardLinkRequest.objects.filter(reader=reader).select_related("library")


def pending_link_requests(*, actor: Actor) -> QuerySet[CardLinkRequest]:
    """Link requests waiting for staff approval, in the actor's library (all for the operator)."""
    return (
        CardLinkRequest.objects.filter(library_scope(actor))
        .filter(status=CardLinkRequest.Status.PENDING)
        .select_related("library", "reader")
        .order_by("created_at", "id")
    )


def pending_reviews(*, actor: Actor) -> QuerySet[ManualReview]:
    return (
        ManualReview.objects.filter(library_scope(actor))
        .filter(status=ManualReview.Status.PENDING)
        .select_related("library", "reader")
        .order_by("created_at", "id")
    )


# --- the masked reader ---------------------------------------------------------------------------


def _unsealed(reader: Reader, column: str) -> str:
    from xinyue.readers.vault import VaultError, unseal

    if not getattr(reader, column, ""):
        return ""
    try:
        return unseal(reader, column)
    except VaultError:
        return ""


def masked_reader(reader: Reader) -> dict[str, Any]:
    """A reader as staff and library systems may see them: masked name and ID number, derived
    facts, and a stable pseudonymous reference (never the database id alone)."""
    return {
        "ref": str(reader.uid),
        "name": mask_name(_unsealed(reader, "name_ct")),
        "id_number": mask_id_number(_unsealed(reader, "id_number_ct")),
        "gender": reader.gender,
        "birth_year": reader.birth_year,
    }


def card_requests_export(*, reader: Reader) -> dict[str, list[dict[str, Any]]]:
    """The reader's link requests and manual reviews, for the data export (PIPL art. 45)."""

    def iso(moment: dt.datetime | None) -> str | None:
        return moment.isoformat() if moment else None

    return {
        "card_link_requests": [
            {
                "library_code": r.library.code,
                "card_number": r.card_number,
                "method": r.method,
                "status": r.status,
                "created_at": iso(r.created_at),
                "decided_at": iso(r.decided_at),
                "decision_note": r.decision_note,
            }
            for r in reader_link_requests(reader=reader).order_by("id")
        ],
        "card_reviews": [
            {
                "library_code": r.library.code,
                "status": r.status,
                "message": r.message,
                "created_at": iso(r.created_at),
                "decided_at": iso(r.decided_at),
                "decision_note": r.decision_note,
            }
            for r in reader_reviews(reader=reader).order_by("id")
        ],
    }


def export_card_requests(*, reader: Reader) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    """The reader's link requests and reviews for their data export (a rights hook)."""
    return "card_requests", card_requests_export(reader=reader)


def export_cards(*, reader: Reader) -> tuple[str, list[dict[str, Any]]]:
    """The reader's cards and their history for their data export (a rights hook)."""
    return "cards", [
        {
            "number": card.number,
            "library_code": card.library.code,
            "library_name": card.library.name,
            "kind": card.kind,
            "status": card.status,
            "status_reason": card.status_reason,
            "deposit_fen": card.deposit_fen,
            "issued_at": _iso(card.issued_at),
            "service_activated_at": _iso(card.service_activated_at),
            "events": [
                {
                    "at": _iso(e.at),
                    "from": e.from_state,
                    "to": e.to_state,
                    "channel": e.channel,
                    "note": e.note,
                }
                for e in card.events.all()
            ],
        }
        for card in Card.objects.filter(reader=reader)
        .select_related("library")
        .prefetch_related("events")
    ]


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None else None


def card_libraries(reader_id: int) -> list[int]:
    """The libraries where a reader holds a card that is not cancelled: the libraries whose
    staff count the reader as theirs (``core.permissions``, scope "own library")."""
    return list(
        Card.objects.filter(reader_id=reader_id)
        .exclude(status=Card.Status.CANCELLED)
        .values_list("library_id", flat=True)
    )
