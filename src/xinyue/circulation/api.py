"""API operations of the circulation app (mounted under /api/v1/, DESIGN §11): the reader's
loans and renewals, the desk (check-in, check-out) for a library's staff or its system's key,
and the MARC records of the books that joined a library at a return.

A desk operation acts for the caller's library; the operator names one (``library_code``). The
reader's card at the desk is identified by its number, which is also what the card's QR code on
the reader's phone holds, so a scanner reads either into ``card_number``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from xinyue.circulation import selectors, services
from xinyue.circulation.errors import CardUnknown, LoanNotFound
from xinyue.circulation.models import Loan
from xinyue.circulation.qr import borrow_qr_svg, borrow_url
from xinyue.circulation.selectors import loans_of_reader
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.permissions import Action, require
from xinyue.core.schemas import ErrorOut, ObjectIn
from xinyue.libraries import selectors as library_selectors
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import library_get
from xinyue.readers.errors import NotAReader
from xinyue.readers.selectors import reader_from_request

router = Router(tags=["circulation"])
# 4–40 letters, digits or hyphens; blanks a scanner adds around it are ignored.
BARCODE_PATTERN = r"^\s*[A-Za-z0-9-]{4,40}\s*$"
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


class LoanOut(Schema):
    id: int
    program: str = Field(description="platform | local")
    status: str = Field(description="on_loan | returned | lost | settled")
    title_id: int
    title: str
    barcode: str
    library_code: str
    order_number: str | None
    started_at: dt.datetime
    due_on: dt.date
    is_overdue: bool
    renewals: int
    returned_at: dt.datetime | None
    compensation_fen: int = Field(
        description="a lost book's compensation (list price × factor + fee of the rule)"
    )
    compensation_charged_fen: int = Field(
        description="settled by the provider: its deduction for this book (at most the credit "
        "order's deposit, the order's list-price total)"
    )
    compensation_unpaid_fen: int = Field(
        description="what the deposit cap left uncollected: owed at a desk "
        "(`POST /desk/loans/{id}/compensation`), blocks new loans and renewals until paid"
    )
    refund_due_fen: int = Field(
        description="a lost book found after its compensation was paid: the amount a desk "
        "gives back (no credit provider can refund a completed deduction)"
    )
    refunded_at: dt.datetime | None


class BlockOut(Schema):
    code: str = Field(
        description="overdue | lost_items | unpaid_compensation | compensation_unpaid"
    )
    message: str = Field(description="why, and what clears it")


class LoanListOut(Schema):
    count: int
    items: list[LoanOut]
    blocks: list[BlockOut] = Field(
        description="what stops new loans and renewals now (returns never are)"
    )


def _loan_out(loan: Loan) -> dict[str, Any]:
    return {
        "id": loan.pk,
        "program": loan.program,
        "status": loan.status,
        "title_id": loan.item.title_id,
        "title": loan.item.title.title,
        "barcode": loan.item.barcode,
        "library_code": loan.library.code,
        "order_number": loan.order_line.order.number if loan.order_line_id else None,
        "started_at": loan.started_at,
        "due_on": loan.due_on,
        "is_overdue": loan.is_overdue,
        "renewals": loan.renewals,
        "returned_at": loan.returned_at,
        "compensation_fen": loan.compensation_fen,
        "compensation_charged_fen": loan.compensation_charged_fen,
        "compensation_unpaid_fen": loan.compensation_unpaid_fen,
        "refund_due_fen": loan.refund_due_fen,
        "refunded_at": loan.refunded_at,
    }


@router.get(
    "/loans",
    response={200: LoanListOut, 401: ErrorOut, 403: ErrorOut},
    summary="The reader's loans (open first, then the history), with due dates",
)
def my_loans(request: HttpRequest) -> dict[str, Any]:
    reader = reader_from_request(request)
    if reader is None:
        raise NotAReader()
    loans = sorted(
        loans_of_reader(reader_id=reader.pk)[:200], key=lambda loan: loan.status != "on_loan"
    )
    return {
        "count": len(loans),
        "items": [_loan_out(loan) for loan in loans],
        "blocks": [block.as_dict() for block in selectors.reader_blocks(reader)],
    }


@router.post(
    "/loans/{loan_id}/renew",
    response={200: LoanOut, **ERRORS},
    summary="Renew a loan (the reader's own; or staff where the reader holds a card)",
    description=(
        "Within the circulation rule: renewals left, at most the grace days overdue. Refusals: "
        "`renewal_refused` with `detail.reason` `limit` | `overdue` | `lost` | `not_on_loan`, "
        "`reader_blocked` with `detail.blocks`. A platform loan's credit order is extended at "
        "the provider."
    ),
)
def renew(request: HttpRequest, loan_id: int) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    reader = reader_from_request(request)
    loans = Loan.objects.select_related("item__title", "library", "order_line__order")
    if reader is not None:
        loans = loans.filter(reader=reader)  # a reader never learns of another's loan
    else:
        require(actor, Action.RENEW_LOAN)
    loan = loans.filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound()
    loan = services.renew_loan(actor=actor, loan=loan)
    return _loan_out(Loan.objects.select_related("item__title", "library").get(pk=loan.pk))


# --- the desk -------------------------------------------------------------------------------


class CheckinIn(Schema):
    barcode: str = Field(
        max_length=64, pattern=BARCODE_PATTERN, description="the item's barcode as scanned"
    )
    library_code: str | None = Field(
        None, max_length=12, description="the operator names the library; staff act for theirs"
    )


class CheckinOut(Schema):
    loan_id: int | None
    returned: bool = Field(description="the book is checked in (now or by an earlier call)")
    already_returned: bool = Field(description="an earlier check-in did it; nothing changed")
    transferred: bool = Field(description="the book now belongs to this library")
    library_code: str = Field(description="the library that took the book back")
    owning_library_code: str
    barcode: str
    title: str
    message: str = Field(description="what the desk or kiosk shows (Chinese)")


class CheckoutIn(Schema):
    card_number: str = Field(
        max_length=64, description="the reader's card number at this library (or its QR code)"
    )
    barcode: str = Field(max_length=64, pattern=BARCODE_PATTERN)
    library_code: str | None = Field(None, max_length=12)


class CheckoutOut(Schema):
    loan_id: int
    program: str
    barcode: str
    title: str
    library_code: str
    card_number: str
    due_on: dt.date
    message: str


def desk_library(actor: Actor, code: str | None) -> Library:
    """Staff act for their own library; the operator (or a platform key) names one. An actor
    with no library who may not circulate anywhere is refused before being asked for one."""
    if not code and actor.library_id is None:
        require(actor, Action.CIRCULATE)
    return library_selectors.desk_library(actor=actor, code=code)


@router.post(
    "/desk/checkin",
    response={200: CheckinOut, **ERRORS},
    summary="Check a book in at this library (any member library's platform book joins it)",
    description=(
        "Idempotent: a repeated check-in answers the same with `already_returned` true. "
        "Refusals: `item_unknown` (404), `item_not_on_loan` (409), `invalid` (barcode)."
    ),
)
def desk_checkin(request: HttpRequest, payload: CheckinIn) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    library = desk_library(actor, payload.library_code)
    result = services.check_in(actor=actor, library=library, barcode=payload.barcode)
    return {
        "loan_id": result.loan.pk if result.loan else None,
        "returned": True,
        "already_returned": result.already_returned,
        "transferred": result.transferred,
        "library_code": library.code,
        "owning_library_code": result.item.owning_library.code,
        "barcode": result.item.barcode,
        "title": result.item.title.title,
        "message": result.message,
    }


@router.post(
    "/desk/checkout",
    response={201: CheckoutOut, **ERRORS},
    summary="Lend one of this library's books to the reader whose card (or card QR) is scanned",
    description=(
        "Local program, due date from the circulation rules; idempotent for the same reader "
        "and book. Refusals: `card_unknown`, `reader_blocked` (`detail.blocks`), "
        "`quota_reached`, `not_lendable_here` (`detail.reason`), `item_unknown`."
    ),
)
def desk_checkout(request: HttpRequest, payload: CheckoutIn) -> Any:
    from xinyue.cards.selectors import library_card

    actor: Actor = request.auth  # type: ignore[attr-defined]
    library = desk_library(actor, payload.library_code)
    require(actor, Action.CIRCULATE, library_id=library.pk)
    card = library_card(actor=actor, library=library, number=payload.card_number)
    if card is None:
        raise CardUnknown(card_number=payload.card_number.strip()[:40])
    loan = services.check_out(
        actor=actor, library=library, reader=card.reader, barcode=payload.barcode
    )
    return Status(
        201,
        {
            "loan_id": loan.pk,
            "program": loan.program,
            "barcode": loan.item.barcode,
            "title": loan.item.title.title,
            "library_code": library.code,
            "card_number": card.number,
            "due_on": loan.due_on,
            "message": _("《%(title)s》已借出，请于 %(due)s 前归还")
            % {"title": loan.item.title.title, "due": loan.due_on.isoformat()},
        },
    )


@router.get(
    "/libraries/{code}/transferred-items",
    response={200: None, **ERRORS},
    summary="MARC records (ISO 2709) of the books that joined this library at a return since a date",
    description=(
        "For the library's own system to add them to its catalogue: one MARC21 record per "
        "item transferred on or after `since` (Asia/Shanghai), with the barcode and provenance "
        "in 852/541. `format=marcxml` gives MARCXML."
    ),
    openapi_extra={
        "responses": {
            200: {
                "description": "MARC records",
                "content": {
                    "application/marc": {"schema": {"type": "string", "format": "binary"}},
                    "application/marcxml+xml": {"schema": {"type": "string"}},
                },
            }
        }
    },
)
def transferred_items(
    request: HttpRequest,
    code: str,
    since: dt.date = Query(..., description="YYYY-MM-DD"),  # noqa: B008
    format: str = Query("marc", pattern="^(marc|marcxml)$"),
) -> HttpResponse:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    library = library_get(code=code)
    require(actor, Action.WORK_AT_LIBRARY, library_id=library.pk)
    transfers = selectors.transferred_items(library=library, since=clock.start_of_day(since))
    from xinyue.circulation import marc  # pymarc, loaded by the first export (worker memory)

    records = [marc.item_record(transfer) for transfer in transfers[:5000]]
    if format == "marcxml":
        return HttpResponse(marc.as_marcxml(records), content_type="application/marcxml+xml")
    response = HttpResponse(marc.as_iso2709(records), content_type="application/marc")
    response["Content-Disposition"] = f'attachment; filename="{library.code}-{since}.mrc"'
    return response


# --- compensation at the desk, the reader's credit record, disputes ----------------------------


class CompensationIn(ObjectIn):
    library_code: str | None = Field(None, max_length=12)


@router.post(
    "/desk/loans/{loan_id}/compensation",
    response={200: LoanOut, **ERRORS},
    summary="The reader pays a lost book's compensation at this desk",
    description=(
        "The loan is settled and the deduction waiting for the provider is withdrawn. A loan "
        "settled by the provider with `compensation_unpaid_fen` > 0 (the compensation exceeded "
        "the credit order's deposit) has that rest paid here and then owes nothing. Refused "
        "with `compensation_not_due` (409) when the loan is not lost and owes nothing, or the "
        "deduction already reached the provider (`detail.status` `charged`)."
    ),
)
def desk_compensation(request: HttpRequest, loan_id: int, payload: CompensationIn) -> Any:
    return _desk_money(request, loan_id, payload, services.pay_compensation_at_desk)


@router.post(
    "/desk/loans/{loan_id}/refund",
    response={200: LoanOut, **ERRORS},
    summary="Give a found book's compensation back to the reader at this desk",
    description=(
        "A lost book whose compensation was charged (or paid at a desk) and which was then "
        "found and checked in has `refund_due_fen` > 0; the desk pays it back and records it "
        "here, once. Refused with `refund_not_due` (409): `detail.status` `none` or `refunded`."
    ),
)
def desk_refund(request: HttpRequest, loan_id: int, payload: CompensationIn) -> Any:
    return _desk_money(request, loan_id, payload, services.refund_compensation_at_desk)


def _desk_money(
    request: HttpRequest, loan_id: int, payload: CompensationIn, pay: Callable[..., Loan]
) -> Any:
    """Money across a desk for one loan (compensation in, a refund out): the desk's library,
    then the service, then the loan as it now stands."""
    actor: Actor = request.auth  # type: ignore[attr-defined]
    library = desk_library(actor, payload.library_code)
    require(actor, Action.CIRCULATE, library_id=library.pk)
    loan = Loan.objects.filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound()
    loan = pay(actor=actor, library=library, loan=loan)
    return _loan_out(
        Loan.objects.select_related("item__title", "library", "order_line__order").get(pk=loan.pk)
    )


class CreditRecordOut(Schema):
    id: int
    kind: str = Field(description="borrow | renew | return | overdue | charge | correction")
    kind_label: str
    state: str = Field(description="pending | sent | failed | cancelled")
    created_at: dt.datetime
    sent_at: dt.datetime | None
    loan_id: int | None
    title: str
    barcode: str
    charge_fen: int
    due_on: dt.date | None
    dispute: str = Field(description="'' | open | corrected | rejected")
    dispute_reason: str
    dispute_answer: str


class CreditRecordListOut(Schema):
    count: int
    items: list[CreditRecordOut]


class DisputeIn(Schema):
    reason: str = Field(max_length=500, description="why the record is wrong (2–500 characters)")


class AnswerIn(Schema):
    correct: bool = Field(description="true: corrected; false: the dispute is rejected")
    answer: str = Field(max_length=500)
    due_on: dt.date | None = Field(
        None, description="a later due date for a loan still open, sent to the provider"
    )


def _record_out(row) -> dict[str, Any]:
    loan = row.loan
    return {
        "id": row.pk,
        "kind": row.kind,
        "kind_label": str(row.get_kind_display()),
        "state": row.state,
        "created_at": row.created_at,
        "sent_at": row.sent_at,
        "loan_id": row.loan_id,
        "title": loan.item.title.title if loan else "",
        "barcode": loan.item.barcode if loan else "",
        "charge_fen": row.charge_fen,
        "due_on": row.due_on,
        "dispute": row.dispute,
        "dispute_reason": row.dispute_reason,
        "dispute_answer": row.dispute_answer,
    }


def _reader(request: HttpRequest):
    reader = reader_from_request(request)
    if reader is None:
        raise NotAReader()
    return reader


@router.get(
    "/readers/me/credit-records",
    response={200: CreditRecordListOut, 401: ErrorOut, 403: ErrorOut},
    summary="Every record sent (or to be sent) to the credit provider about the reader",
)
def my_credit_records(request: HttpRequest) -> dict[str, Any]:
    reader = _reader(request)
    actor: Actor = request.auth  # type: ignore[attr-defined]
    rows = selectors.credit_records_of_reader(actor=actor, reader=reader)[:500]
    return {"count": len(rows), "items": [_record_out(row) for row in rows]}


@router.post(
    "/readers/me/credit-records/{record_id}/dispute",
    response={200: CreditRecordOut, **ERRORS},
    summary="Dispute one of the reader's credit records (a reason); the library answers",
    description="Refusals: `credit_record_not_found` (404), `dispute_state` (409: disputed).",
)
def dispute_credit_record(request: HttpRequest, record_id: int, payload: DisputeIn) -> Any:
    reader = _reader(request)
    actor: Actor = request.auth  # type: ignore[attr-defined]
    row = services.dispute_record(
        actor=actor, reader=reader, record_id=record_id, reason=payload.reason
    )
    return _record_out(selectors.credit_record(row.pk))


@router.get(
    "/credit-disputes",
    response={200: CreditRecordListOut, 401: ErrorOut, 403: ErrorOut},
    summary="Open disputes of credit records for the caller's library (the operator: all)",
)
def credit_disputes(request: HttpRequest) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    rows = selectors.open_disputes(actor=actor)[:500]
    return {"count": len(rows), "items": [_record_out(row) for row in rows]}


@router.post(
    "/credit-disputes/{record_id}/answer",
    response={200: CreditRecordOut, **ERRORS},
    summary="Answer a dispute: corrected (optionally a later due date at the provider) or not",
    description=(
        "Refusals: `credit_record_not_found` (404), `dispute_state` (409: not open), `invalid` "
        "(`due_on` not later, loan not open)."
    ),
)
def answer_credit_dispute(request: HttpRequest, record_id: int, payload: AnswerIn) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    row = services.answer_dispute(
        actor=actor,
        record_id=record_id,
        correct=payload.correct,
        answer=payload.answer,
        due_on=payload.due_on,
    )
    return _record_out(selectors.credit_record(row.pk))


# --- QR credit borrowing --------------------------------------------------------------------


class BorrowSessionIn(Schema):
    barcodes: list[Annotated[str, Field(max_length=64, pattern=BARCODE_PATTERN)]] = Field(
        ..., min_length=1, max_length=10, description="the books to lend, as scanned (1–10)"
    )
    library_code: str | None = Field(None, max_length=12)


class BorrowSessionOut(Schema):
    id: int
    token: str = Field(description="one-time token (also a kiosk's SIP2 patron id once confirmed)")
    qr_payload: str = Field(description="the URL the QR code holds: the reader's confirm page")
    qr_svg: str = Field(description="the QR code as an SVG image")
    expires_at: dt.datetime
    library_code: str
    barcodes: list[str]


@router.post(
    "/desk/borrow-sessions",
    response={201: BorrowSessionOut, **ERRORS},
    summary="Show a short-lived QR code the reader scans to borrow these books on credit",
    description=(
        "The reader opens `qr_payload` while logged in, sees the library and the books and "
        "confirms; the loans are local ones under one provider credit order. The token works "
        "once and expires after five minutes. Refusals: `item_unknown`, `not_lendable_here` "
        "(`detail.reason`, `detail.barcode`), `invalid` (`barcodes[i]`)."
    ),
)
def create_borrow_session(request: HttpRequest, payload: BorrowSessionIn) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    library = desk_library(actor, payload.library_code)
    session, token = services.start_borrow_session(
        actor=actor, library=library, barcodes=payload.barcodes
    )
    url = borrow_url(token)
    return Status(
        201,
        {
            "id": session.pk,
            "token": token,
            "qr_payload": url,
            "qr_svg": str(borrow_qr_svg(url)),
            "expires_at": session.expires_at,
            "library_code": library.code,
            "barcodes": session.barcodes,
        },
    )


# --- courier or locker return -----------------------------------------------------------------


class ReturnBookingIn(Schema):
    method: str = Field(..., pattern="^(courier|locker)$", description="courier | locker")


class ReturnBookingOut(Schema):
    loan_id: int
    return_method: str = Field(description="courier | locker")
    return_booked_at: dt.datetime | None
    handed_over_at: dt.datetime | None = Field(description="the loan clock stopped then")
    return_library_code: str | None = Field(
        description="the library the book is brought to (the reader's home library)"
    )
    due_on: dt.date
    is_overdue: bool


def _return_out(loan: Loan) -> dict[str, Any]:
    return {
        "loan_id": loan.pk,
        "return_method": loan.return_method,
        "return_booked_at": loan.return_booked_at,
        "handed_over_at": loan.handed_over_at,
        "return_library_code": loan.return_library.code if loan.return_library_id else None,
        "due_on": loan.due_on,
        "is_overdue": loan.is_overdue,
    }


@router.post(
    "/loans/{loan_id}/return-booking",
    response={200: ReturnBookingOut, **ERRORS},
    summary="Book a courier pick-up or a locker return of the reader's own loan",
    description=(
        "Only the methods the lending library offers (`invalid` on `method` otherwise). The "
        "loan stays due until the carrier or locker records the hand-off; from then a carrier's "
        "delay never makes the reader overdue."
    ),
)
def book_return(request: HttpRequest, loan_id: int, payload: ReturnBookingIn) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    reader = reader_from_request(request)
    loans = Loan.objects.select_related("library")
    if reader is not None:
        loans = loans.filter(reader=reader)
    else:
        require(actor, Action.RENEW_LOAN)
    loan = loans.filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound()
    return _return_out(services.book_return(actor=actor, loan=loan, method=payload.method))


@router.post(
    "/desk/loans/{loan_id}/handed-over",
    response={200: ReturnBookingOut, **ERRORS},
    summary="Record that the carrier (or locker) has the book of a booked return",
    description=(
        "The loan clock stops now; a repeat keeps the first time. The receiving library checks "
        "the book in on arrival (`/desk/checkin`). Refusal: `return_not_booked`."
    ),
)
def hand_over(request: HttpRequest, loan_id: int) -> Any:
    actor: Actor = request.auth  # type: ignore[attr-defined]
    require(actor, Action.CIRCULATE)
    loan = Loan.objects.filter(pk=loan_id).first()
    if loan is None:
        raise LoanNotFound()
    return _return_out(services.record_hand_over(actor=actor, loan=loan))
