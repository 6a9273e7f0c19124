"""API: a reader's cards (issue, link, list, eligibility, manual review) and the library desk
(look a reader up, deposit cards, suspend / reinstate / cancel, link requests, reviews).

Mounted into the readers router (``/api/v1/cards…``, ``/api/v1/desk/…``). Reader operations take
a reader token or a reader's session; desk operations an API key or session of the library's
staff (a library-scoped key acts for its library; the operator names the library).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from xinyue.cards import selectors as card_selectors
from xinyue.cards.models import Card, CardLinkRequest, ManualReview
from xinyue.cards.services import issuing as card_services
from xinyue.cards.services import linking
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput, NotFound, PermissionDenied
from xinyue.core.permissions import require_staff
from xinyue.core.schemas import ErrorOut, ObjectIn, non_blank
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import desk_library, library_get
from xinyue.readers.models import Reader

router = Router(tags=["cards"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas -------------------------------------------------------------------------------------


class CardOut(Schema):
    number: str
    library_code: str
    library_name: str
    kind: str
    deposit_fen: int
    status: str
    status_reason: str
    issued_at: dt.datetime
    service_activated_at: dt.datetime | None
    service_active: bool

    @staticmethod
    def resolve_library_code(obj: Card) -> str:
        return obj.library.code

    @staticmethod
    def resolve_library_name(obj: Card) -> str:
        return obj.library.name

    @staticmethod
    def resolve_service_active(obj: Card) -> bool:
        return obj.service_activated_at is not None and obj.status == Card.Status.ACTIVE


class IssueIn(Schema):
    library_code: str = non_blank()


class LinkIn(Schema):
    library_code: str = non_blank()
    card_number: str = non_blank()
    password: str = ""


class LinkOut(Schema):
    status: str  # activated | pending
    request_id: int | None
    card: CardOut | None


class AlternativeOut(Schema):
    code: str
    label: str
    description: str
    status: str | None = None


class EligibilityOut(Schema):
    library_code: str | None
    eligible: bool
    basis: str
    reason_code: str
    reason: str
    provider: str
    threshold: int | None
    expires_at: dt.datetime | None
    alternatives: list[AlternativeOut]


class ReviewIn(Schema):
    library_code: str = non_blank()
    message: str = ""


class ReviewOut(Schema):
    id: int
    library_code: str
    library_name: str
    status: str
    message: str
    decision_note: str
    created_at: dt.datetime
    decided_at: dt.datetime | None

    @staticmethod
    def resolve_library_code(obj: ManualReview) -> str:
        return obj.library.code

    @staticmethod
    def resolve_library_name(obj: ManualReview) -> str:
        return obj.library.name


class MaskedReaderOut(Schema):
    ref: str
    name: str
    id_number: str
    gender: str
    birth_year: int | None


class DeskReaderOut(Schema):
    reader: MaskedReaderOut
    cards: list[CardOut]
    cards_elsewhere: int
    eligible_for_credit_card: bool
    eligibility_reason: str


class LookupIn(ObjectIn):
    id_number: str = ""
    card_number: str = ""
    library_code: str | None = None


class DepositCardIn(Schema):
    id_number: str = ""
    reader_ref: str = ""
    deposit_fen: int
    library_code: str | None = None


class ReasonIn(Schema):
    reason: str


class NoteIn(ObjectIn):
    note: str = ""


class LinkRequestOut(Schema):
    id: int
    library_code: str
    card_number: str
    method: str
    status: str
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decision_note: str
    reader: MaskedReaderOut

    @staticmethod
    def resolve_library_code(obj: CardLinkRequest) -> str:
        return obj.library.code

    @staticmethod
    def resolve_reader(obj: CardLinkRequest) -> dict[str, Any]:
        return card_selectors.masked_reader(obj.reader)


class DeskReviewOut(ReviewOut):
    refusal_reason: str
    reader: MaskedReaderOut

    @staticmethod
    def resolve_reader(obj: ManualReview) -> dict[str, Any]:
        return card_selectors.masked_reader(obj.reader)


# --- helpers -------------------------------------------------------------------------------------


def _reader(request: HttpRequest) -> Reader:
    from xinyue.readers.selectors import reader_from_request

    reader = reader_from_request(request)
    if reader is None:
        raise PermissionDenied(_("此操作需要读者登录"), required="reader")
    return reader


def _library(code: str, field: str = "library_code") -> Library:
    library = Library.objects.filter(code=(code or "").strip()).first()
    if library is None:
        raise InvalidInput(fields={field: _("没有这个成员馆")})
    return library


def _desk_library(actor: Actor, code: str | None) -> Library:
    """Staff act for their own library; the operator names one."""
    require_staff(actor)
    return desk_library(actor=actor, code=code)


def _eligibility_out(eligibility: card_selectors.Eligibility, library: Library | None) -> dict:
    return {
        "library_code": library.code if library else None,
        "eligible": eligibility.eligible,
        "basis": eligibility.basis,
        "reason_code": eligibility.reason_code,
        "reason": eligibility.reason,
        "provider": eligibility.provider,
        "threshold": eligibility.threshold,
        "expires_at": eligibility.expires_at,
        "alternatives": eligibility.alternatives,
    }


def _desk_card(actor: Actor, library_code: str, number: str) -> Card:
    require_staff(actor)
    library = library_get(code=library_code)
    card = card_selectors.library_card(actor=actor, library=library, number=number)
    if card is None:
        raise NotFound(_("找不到该读者证"), number=number)
    return card


# --- reader operations ---------------------------------------------------------------------------


@router.get("/cards", response={200: list[CardOut], **ERRORS}, summary="The reader's cards")
def list_cards(request: HttpRequest) -> Any:
    return list(card_selectors.reader_cards(reader=_reader(request)))


@router.post(
    "/cards",
    response={201: CardOut, **ERRORS},
    summary="Get a deposit-free credit card at a member library (admitted readers)",
    description=(
        "Admittance is re-checked. A reader who is not admitted gets 409 `not_admitted` with "
        "`detail.reason` and `detail.alternatives` (authorize, manual_review, deposit_card, "
        "link_card); `GET /cards/eligibility` tells the same before asking."
    ),
)
def issue_card(request: HttpRequest, payload: IssueIn) -> Any:
    reader = _reader(request)
    card = card_services.issue_credit_card(
        actor=request.auth, reader=reader, library=_library(payload.library_code)
    )
    return Status(201, card)


@router.get(
    "/cards/eligibility",
    response={200: EligibilityOut, **ERRORS},
    summary="May the reader get a deposit-free card (at this library)? If not: why, and what else",
)
def card_eligibility(request: HttpRequest, library_code: str | None = None) -> Any:
    reader = _reader(request)
    library = _library(library_code) if library_code else None
    return _eligibility_out(
        card_selectors.card_eligibility(reader=reader, library=library), library
    )


@router.post(
    "/cards/link",
    response={201: LinkOut, 202: LinkOut, **ERRORS, 429: ErrorOut, 503: ErrorOut},
    summary="Link a card the reader already holds and activate the platform service",
    description=(
        "The library's configured check runs: SIP2 or its REST endpoint (201, `activated`), or "
        "its staff (202, `pending`). A failed check is 422 `link_check_failed`; an unreachable "
        "library system 503 `link_check_unavailable`; too many failures 429."
    ),
)
def link_card(request: HttpRequest, payload: LinkIn) -> Any:
    reader = _reader(request)
    outcome = linking.link_existing_card(
        actor=request.auth,
        reader=reader,
        library=_library(payload.library_code),
        card_number=payload.card_number,
        password=payload.password,
    )
    body = {"status": outcome.status, "request_id": outcome.request.pk, "card": outcome.card}
    return Status(201 if outcome.status == "activated" else 202, body)


@router.get("/cards/reviews", response={200: list[ReviewOut], **ERRORS})
def list_reviews(request: HttpRequest) -> Any:
    return list(card_selectors.reader_reviews(reader=_reader(request)).order_by("-id"))


@router.post(
    "/cards/reviews",
    response={201: ReviewOut, **ERRORS},
    summary="Ask a member library for a manual review (the way forward after a refusal)",
)
def request_review(request: HttpRequest, payload: ReviewIn) -> Any:
    review = card_services.request_manual_review(
        actor=request.auth,
        reader=_reader(request),
        library=_library(payload.library_code),
        message=payload.message,
    )
    return Status(201, review)


# --- desk operations (library staff, operator) ---------------------------------------------------


@router.post(
    "/desk/readers/lookup",
    response={200: DeskReaderOut, **ERRORS},
    summary="Look a reader up by ID number or by a card number of the library (masked, audited)",
    description="A POST so that the ID number never appears in a URL or an access log.",
)
def desk_lookup(request: HttpRequest, payload: LookupIn) -> Any:
    library = _desk_library(request.auth, payload.library_code)
    found = card_services.look_up_reader(
        actor=request.auth,
        library=library,
        id_number=payload.id_number,
        card_number=payload.card_number,
    )
    if found is None:
        raise NotFound(_("找不到该读者"))
    return {
        "reader": found.masked,
        "cards": found.cards,
        "cards_elsewhere": found.cards_elsewhere,
        "eligible_for_credit_card": found.eligibility.eligible,
        "eligibility_reason": found.eligibility.reason,
    }


@router.post(
    "/desk/cards",
    response={201: CardOut, **ERRORS},
    summary="Issue a deposit card at the desk (deposit in fen)",
)
def desk_issue_deposit_card(request: HttpRequest, payload: DepositCardIn) -> Any:
    library = _desk_library(request.auth, payload.library_code)
    reader = None
    if payload.reader_ref:
        reader = Reader.objects.filter(uid=_uuid(payload.reader_ref)).first()
    elif payload.id_number:
        found = card_services.look_up_reader(
            actor=request.auth, library=library, id_number=payload.id_number
        )
        reader = found.reader if found else None
    else:
        raise InvalidInput(fields={"id_number": _("请提供身份证号或读者编号")})
    if reader is None:
        raise NotFound(_("找不到该读者"))
    card = card_services.issue_deposit_card(
        actor=request.auth, reader=reader, library=library, deposit_fen=payload.deposit_fen
    )
    return Status(201, card)


def _uuid(value: str) -> str:
    import uuid

    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise InvalidInput(fields={"reader_ref": _("读者编号格式不正确")}) from None


@router.post("/desk/cards/{library_code}/{number}/suspend", response={200: CardOut, **ERRORS})
def desk_suspend(request: HttpRequest, library_code: str, number: str, payload: ReasonIn) -> Any:
    card = _desk_card(request.auth, library_code, number)
    return card_services.suspend_card(actor=request.auth, card=card, reason=payload.reason)


@router.post("/desk/cards/{library_code}/{number}/reinstate", response={200: CardOut, **ERRORS})
def desk_reinstate(request: HttpRequest, library_code: str, number: str, payload: ReasonIn) -> Any:
    card = _desk_card(request.auth, library_code, number)
    return card_services.reinstate_card(actor=request.auth, card=card, reason=payload.reason)


@router.post("/desk/cards/{library_code}/{number}/cancel", response={200: CardOut, **ERRORS})
def desk_cancel(request: HttpRequest, library_code: str, number: str, payload: ReasonIn) -> Any:
    card = _desk_card(request.auth, library_code, number)
    return card_services.cancel_card(actor=request.auth, card=card, reason=payload.reason)


@router.get("/desk/link-requests", response={200: list[LinkRequestOut], **ERRORS})
def desk_link_requests(request: HttpRequest) -> Any:
    require_staff(request.auth)
    return list(card_selectors.pending_link_requests(actor=request.auth))


def _link_request(actor: Actor, request_id: int) -> CardLinkRequest:
    require_staff(actor)
    found = card_selectors.pending_link_requests(actor=actor).filter(pk=request_id).first()
    if found is None:
        raise NotFound(_("找不到待处理的绑定申请"))
    return found


@router.post("/desk/link-requests/{request_id}/approve", response={200: CardOut, **ERRORS})
def desk_approve_link(request: HttpRequest, request_id: int, payload: NoteIn) -> Any:
    link_request = _link_request(request.auth, request_id)
    return linking.approve_link_request(actor=request.auth, request=link_request, note=payload.note)


@router.post("/desk/link-requests/{request_id}/refuse", response={200: LinkRequestOut, **ERRORS})
def desk_refuse_link(request: HttpRequest, request_id: int, payload: ReasonIn) -> Any:
    link_request = _link_request(request.auth, request_id)
    return linking.refuse_link_request(
        actor=request.auth, request=link_request, reason=payload.reason
    )


@router.get("/desk/reviews", response={200: list[DeskReviewOut], **ERRORS})
def desk_reviews(request: HttpRequest) -> Any:
    require_staff(request.auth)
    return list(card_selectors.pending_reviews(actor=request.auth))


def _review(actor: Actor, review_id: int) -> ManualReview:
    require_staff(actor)
    found = card_selectors.pending_reviews(actor=actor).filter(pk=review_id).first()
    if found is None:
        raise NotFound(_("找不到待处理的审核申请"))
    return found


@router.post("/desk/reviews/{review_id}/approve", response={200: DeskReviewOut, **ERRORS})
def desk_approve_review(request: HttpRequest, review_id: int, payload: NoteIn) -> Any:
    return card_services.approve_manual_review(
        actor=request.auth, review=_review(request.auth, review_id), note=payload.note
    )


@router.post("/desk/reviews/{review_id}/refuse", response={200: DeskReviewOut, **ERRORS})
def desk_refuse_review(request: HttpRequest, review_id: int, payload: ReasonIn) -> Any:
    return card_services.refuse_manual_review(
        actor=request.auth, review=_review(request.auth, review_id), reason=payload.reason
    )
