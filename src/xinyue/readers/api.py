"""API operations of the readers app (mounted under /api/v1/): registration, reader tokens, the
reader's own account (masked), consents, phone verification, export and deletion.

Personal data leaves only masked (``330***********1234``, ``林**``, ``138****5678``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema, Status
from pydantic import WithJsonSchema

from xinyue.accounts.middleware import request_actor
from xinyue.cards.api import CardOut
from xinyue.cards.models import Card
from xinyue.core.actors import Actor, Channel
from xinyue.core.schemas import ErrorOut, ObjectIn, non_blank
from xinyue.readers import selectors, services
from xinyue.readers.errors import NotAReader
from xinyue.readers.models import ConsentText, Reader
from xinyue.readers.selectors import addresses as address_selectors
from xinyue.readers.selectors import messages as message_selectors
from xinyue.readers.selectors.consents import consent_states, current_texts
from xinyue.readers.selectors.identity import masked_identity, needs_phone_verification
from xinyue.readers.services import addresses as address_services
from xinyue.readers.services import consents as consent_services
from xinyue.readers.services import messages as message_services
from xinyue.readers.services import phone as phone_services
from xinyue.readers.services import rights, tokens
from xinyue.readers.services.identity import (
    client_ip,
    unlock_reader_login,
    verify_password,
)

router = Router(tags=["readers"])

ChannelName = Literal["alipay", "wechat", "pc", "api"]


class RegisterIn(Schema):
    id_number: str = non_blank("resident ID number, 18 digits (or 15, converted)")
    name: str = non_blank()
    phone: str = non_blank("mainland mobile number")
    password: str = non_blank()
    consents: list[str] = ["id_number"]
    channel: ChannelName = "api"


class TokenIn(Schema):
    id_number: str
    password: str
    channel: ChannelName = "api"


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"
    expires_at: datetime


class ConsentStateOut(Schema):
    purpose: str
    title: str
    current_version: int
    granted: bool
    granted_version: int | None
    granted_at: datetime | None
    withdrawn_at: datetime | None
    needs_renewal: bool


class ReaderOut(Schema):
    uid: str
    id_number: str
    name: str
    phone: str
    phone_verified: bool
    phone_verification_required: bool
    gender: str
    birth_year: int | None
    region_code: str
    registered_at: datetime
    cards: list[CardOut]
    consents: list[ConsentStateOut]


ConsentPurpose = Literal["credit_check", "share_borrowing", "id_number"]


class ConsentIn(Schema):
    purpose: ConsentPurpose


class ConsentTextOut(Schema):
    purpose: str
    version: int
    title: str
    body: str
    recipient: str
    requires_reconsent: bool
    published_at: datetime


class PhoneCodeOut(Schema):
    sent: bool
    expires_in_seconds: int


class PhoneVerifyIn(Schema):
    code: str


def _me(request: HttpRequest) -> tuple[Reader, Actor]:
    reader = selectors.reader_from_request(request)
    if reader is None:
        raise NotAReader()
    actor = request_actor(request)
    if actor is None or actor.reader_id != reader.pk:
        raise NotAReader()
    return reader, actor


def reader_out(reader: Reader) -> dict[str, Any]:
    cards = Card.objects.filter(reader=reader).select_related("library").order_by("issued_at")
    return {
        "uid": str(reader.uid),
        **masked_identity(reader=reader),
        "phone_verification_required": needs_phone_verification(reader=reader),
        "cards": list(cards),
        "consents": [state.__dict__ for state in consent_states(reader=reader)],
    }


def _bearer_token(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@router.post(
    "/auth/register",
    auth=None,
    response={201: ReaderOut, 409: ErrorOut, 422: ErrorOut},
    summary="Register a reader (ID number, name, phone, password)",
    description=(
        "Creates the reader's province-wide identity. `consents` must include `id_number` (the "
        "app has shown the text of `GET /consents/texts` and the reader accepted it); add "
        "`credit_check` / `share_borrowing` if the reader accepted those texts too. The response "
        "shows personal data masked. 15-digit ID numbers are converted to 18 characters. Each "
        "`id_number_taken` answer counts against the client address like a failed log-in."
    ),
)
def register(request: HttpRequest, payload: RegisterIn) -> Any:
    reader = services.register_reader(
        id_number=payload.id_number,
        name=payload.name,
        phone=payload.phone,
        password=payload.password,
        consents=payload.consents,
        channel=Channel(payload.channel),
        ip=client_ip(request),
    )
    return Status(201, reader_out(reader))


@router.post(
    "/auth/token",
    auth=None,
    response={200: TokenOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut, 429: ErrorOut},
    summary="Log a reader in: ID number + password → a bearer token",
    description=(
        "Failed attempts are counted per ID number and per client address; after too many, "
        "`429 login_throttled` with `detail.retry_after_seconds`, even for the right password."
    ),
)
def issue_token(request: HttpRequest, payload: TokenIn, response: HttpResponse) -> Any:
    reader = services.authenticate_reader(
        id_number=payload.id_number, password=payload.password, ip=client_ip(request)
    )
    row, token = tokens.issue_reader_token(reader=reader, channel=Channel(payload.channel))
    # A bearer token must not be cached, nor kept by the idempotency store.
    response["Cache-Control"] = "no-store"
    return {"token": token, "token_type": "Bearer", "expires_at": row.expires_at}


class UnlockIn(Schema):
    id_number: str = Field(min_length=1, max_length=40)
    code: str = Field(
        pattern=r"^[0-9]{6}$", description="the 6-digit code of the SMS sent at the lock"
    )


@router.post(
    "/auth/unlock",
    auth=None,
    response={204: None, 422: ErrorOut, 429: ErrorOut},
    summary="Lift a log-in lock with the code the reader received by SMS",
    description=(
        "When too many failed log-ins lock an ID number, its reader gets an SMS saying so, with "
        "a code. Posting that code lifts the lock (then log in as usual). A wrong or spent code "
        "is `422 unlock_code_invalid` and counts against the client address."
    ),
)
def unlock(request: HttpRequest, payload: UnlockIn) -> Any:
    unlock_reader_login(id_number=payload.id_number, code=payload.code, ip=client_ip(request))
    return Status(204, None)


@router.delete(
    "/auth/token",
    response={204: None, 401: ErrorOut},
    summary="Revoke the reader token presented in the Authorization header",
)
def revoke_token(request: HttpRequest) -> Any:
    tokens.revoke_reader_token(token=_bearer_token(request))
    return Status(204, None)


@router.get(
    "/consents/texts",
    auth=None,
    response=list[ConsentTextOut],
    summary="The current consent texts (credit check, sharing borrowing records, ID number)",
)
def consent_texts(request: HttpRequest) -> list[ConsentText]:
    for purpose in ("id_number", "credit_check", "share_borrowing"):
        consent_services.current_text(purpose)  # re-publishes version 1 if the table was emptied
    return current_texts()


@router.get(
    "/readers/me",
    response={200: ReaderOut, 401: ErrorOut, 403: ErrorOut},
    summary="The logged-in reader: masked personal data, cards, consents",
)
def me(request: HttpRequest) -> Any:
    reader, _actor = _me(request)
    return reader_out(reader)


@router.get(
    "/readers/me/export",
    response={200: dict[str, Any], 401: ErrorOut, 403: ErrorOut},
    summary="Everything the platform holds about the reader (JSON; personal data masked)",
    description=(
        "The complete copy with the ID number, name and phone in clear is a download on the "
        "account page after the reader re-enters their password."
    ),
)
def export(request: HttpRequest) -> Any:
    reader, actor = _me(request)
    return rights.export_reader_data(actor=actor, reader=reader, reveal=False)


class DeleteAccountIn(Schema):
    password: str = Field(max_length=128, description="the reader's password, re-entered")


@router.delete(
    "/readers/me",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Delete the reader's account",
    description=(
        "Body `{password}`: the reader re-enters the password (as on the account page); a wrong "
        "or missing one is `422 wrong_password` / `invalid` and nothing is deleted. "
        "Refused with `409 deletion_blocked` and `detail.reasons` while loans or compensation are "
        "open. Otherwise personal data is erased, open cards are cancelled, and only what law "
        "requires is kept, anonymised."
    ),
)
def delete_me(request: HttpRequest, payload: DeleteAccountIn) -> Any:
    reader, actor = _me(request)
    verify_password(reader=reader, password=payload.password)
    rights.delete_reader_account(actor=actor, reader=reader)
    return Status(204, None)


@router.get(
    "/readers/me/consents",
    response={200: list[ConsentStateOut], 401: ErrorOut, 403: ErrorOut},
    summary="The reader's consents, one per purpose",
)
def my_consents(request: HttpRequest) -> Any:
    reader, _actor = _me(request)
    return [state.__dict__ for state in consent_states(reader=reader)]


def _state(reader: Reader, purpose: str) -> dict[str, Any]:
    return next(s.__dict__ for s in consent_states(reader=reader) if s.purpose == purpose)


@router.post(
    "/readers/me/consents",
    response={201: ConsentStateOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Grant a consent (to its current text version)",
)
def grant(request: HttpRequest, payload: ConsentIn) -> Any:
    reader, actor = _me(request)
    consent_services.grant_consent(actor=actor, reader=reader, purpose=payload.purpose)
    return Status(201, _state(reader, payload.purpose))


@router.delete(
    "/readers/me/consents/{purpose}",
    response={200: ConsentStateOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Withdraw a consent (recorded; credit consents stop provider calls at once)",
)
def withdraw(
    request: HttpRequest,
    # The service refuses other purposes with its own code (unknown_consent_purpose); the
    # document lists the valid ones.
    purpose: Annotated[
        str, WithJsonSchema({"type": "string", "enum": list(get_args(ConsentPurpose))})
    ],
) -> Any:
    reader, actor = _me(request)
    consent_services.withdraw_consent(actor=actor, reader=reader, purpose=purpose)
    return _state(reader, purpose)


@router.post(
    "/readers/me/phone/code",
    response={202: PhoneCodeOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 429: ErrorOut},
    summary="Send an SMS code to the reader's phone (when the platform verifies phones)",
)
def send_code(request: HttpRequest) -> Any:
    reader, actor = _me(request)
    phone_services.send_phone_code(actor=actor, reader=reader)
    return Status(
        202, {"sent": True, "expires_in_seconds": int(phone_services.CODE_TTL.total_seconds())}
    )


@router.post(
    "/readers/me/phone/verify",
    response={200: ReaderOut, 401: ErrorOut, 403: ErrorOut, 409: ErrorOut, 422: ErrorOut},
    summary="Verify the phone with the SMS code",
)
def verify_code(request: HttpRequest, payload: PhoneVerifyIn) -> Any:
    reader, actor = _me(request)
    reader = phone_services.verify_phone_code(actor=actor, reader=reader, code=payload.code)
    return reader_out(reader)


class AddressIn(Schema):
    district_code: str = Field(
        min_length=1,
        max_length=6,
        description="county-level division code (GB/T 2260) inside Zhejiang, e.g. 330106",
    )
    detail: str = Field(min_length=1, max_length=200, description="street, number, building")
    recipient: str = Field(min_length=1, max_length=30)
    phone: str = Field(min_length=1, max_length=20, description="mainland mobile number")
    is_default: bool = False


class AddressPatch(Schema):
    district_code: str | None = Field(None, min_length=1, max_length=6)
    detail: str | None = Field(None, min_length=1, max_length=200)
    recipient: str | None = Field(None, min_length=1, max_length=30)
    phone: str | None = Field(None, min_length=1, max_length=20)
    is_default: bool | None = Field(
        None, description="true makes this the default address; false is ignored"
    )


class AddressOut(Schema):
    uid: str
    district_code: str
    region: str = Field(description="province, city and district names: 浙江省杭州市西湖区")
    detail: str = Field(description="masked: the first 6 characters")
    recipient: str = Field(description="masked: 张**")
    phone: str = Field(description="masked: 138****5678")
    is_default: bool


def _address_out(reader: Reader, actor: Actor, uid: str) -> dict[str, Any]:
    return address_selectors.reader_address(actor=actor, reader=reader, uid=uid).masked()


@router.get(
    "/readers/me/addresses",
    response={200: list[AddressOut], 401: ErrorOut, 403: ErrorOut},
    summary="The reader's delivery addresses (masked), the default first",
)
def my_addresses(request: HttpRequest) -> Any:
    reader, actor = _me(request)
    return [a.masked() for a in address_selectors.reader_addresses(actor=actor, reader=reader)]


@router.post(
    "/readers/me/addresses",
    response={201: AddressOut, 401: ErrorOut, 403: ErrorOut, 422: ErrorOut},
    summary="Add a delivery address (inside Zhejiang; the first one becomes the default)",
)
def add_address(request: HttpRequest, payload: AddressIn) -> Any:
    reader, actor = _me(request)
    address = address_services.add_address(actor=actor, reader=reader, **payload.dict())
    return Status(201, _address_out(reader, actor, str(address.uid)))


@router.patch(
    "/readers/me/addresses/{uid}",
    response={200: AddressOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut},
    summary="Change a delivery address, or make it the default",
)
def update_address(request: HttpRequest, uid: str, payload: AddressPatch) -> Any:
    reader, actor = _me(request)
    changes = payload.dict(exclude_none=True)
    make_default = changes.pop("is_default", False)
    if changes:
        address_services.update_address(actor=actor, reader=reader, uid=uid, **changes)
    if make_default:
        address_services.set_default_address(actor=actor, reader=reader, uid=uid)
    return _address_out(reader, actor, uid)


@router.delete(
    "/readers/me/addresses/{uid}",
    response={204: None, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Delete a delivery address (the oldest other one becomes the default)",
)
def delete_address(request: HttpRequest, uid: str) -> Any:
    reader, actor = _me(request)
    address_services.delete_address(actor=actor, reader=reader, uid=uid)
    return Status(204, None)


# --- in-app messages (消息) -----------------------------------------------------------------


class MessageOut(Schema):
    id: int
    kind: str = Field(description="the event: order.shipped, waitlist.turn, …")
    subject: str
    body: str
    link: str = Field(description="a path on this site, or empty")
    created_at: datetime
    read_at: datetime | None


class MessagesOut(Schema):
    unread: int
    items: list[MessageOut]


class MarkReadIn(ObjectIn):
    ids: list[int] | None = Field(
        None, max_length=200, description="the messages read; omitted: all of them"
    )


class MarkedOut(Schema):
    marked: int
    unread: int


def _message_out(m: Any) -> dict[str, Any]:
    return {
        "id": m.pk,
        "kind": m.kind,
        "subject": m.subject,
        "body": m.body,
        "link": m.link,
        "created_at": m.created_at,
        "read_at": m.read_at,
    }


@router.get(
    "/readers/me/messages",
    response={200: MessagesOut, 401: ErrorOut, 403: ErrorOut},
    summary="The reader's in-app messages (order steps, wait-list turns), newest first",
)
def my_messages(request: HttpRequest) -> Any:
    reader, actor = _me(request)
    rows = message_selectors.reader_messages(actor=actor, reader=reader)
    return {
        "unread": message_selectors.unread_count(reader_id=reader.pk),
        "items": [_message_out(m) for m in rows],
    }


@router.post(
    "/readers/me/messages/read",
    response={200: MarkedOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut},
    summary="Mark messages read (all of them when no ids are given)",
)
def mark_messages_read(request: HttpRequest, payload: MarkReadIn) -> Any:
    reader, actor = _me(request)
    marked = message_services.mark_messages_read(
        actor=actor, reader=reader, message_ids=payload.ids
    )
    return {"marked": marked, "unread": message_selectors.unread_count(reader_id=reader.pk)}
