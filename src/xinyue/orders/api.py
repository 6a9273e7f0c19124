"""API operations of the orders app (mounted under /api/v1/), DESIGN §11: the reader's orders
(place, list, show, cancel, confirm receipt) and the supplier's queue (list, ship, reject a line,
mark delivered). ``Idempotency-Key`` on a POST is handled by the idempotency middleware; placing
also passes it to the service, so a double submission is one order however it arrives."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema, Status

from xinyue.core import idempotency
from xinyue.core.actors import Actor, Channel
from xinyue.core.schemas import ErrorOut
from xinyue.libraries.models import Library
from xinyue.orders import selectors, services
from xinyue.orders.models import Order
from xinyue.readers import vault
from xinyue.readers.errors import NotAReader
from xinyue.readers.masking import mask_name, mask_phone
from xinyue.readers.models import Reader
from xinyue.readers.selectors import reader_from_request
from xinyue.readers.services.identity import reader_actor

router = Router(tags=["orders"])
ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 422: ErrorOut}


# --- schemas --------------------------------------------------------------------------------


class AddressIn(Schema):
    district_code: str = Field(max_length=12, description="GB/T 2260 district code, 33xxxx")
    detail: str = Field(max_length=400)
    recipient: str = Field(max_length=60)
    phone: str = Field(max_length=20)


class OrderIn(Schema):
    title_ids: list[int] = Field(min_length=1, max_length=20)
    delivery_kind: Literal["home", "pickup"] = "home"
    address: AddressIn | None = Field(None, description="a new address (home delivery)")
    address_uid: str | None = Field(
        None, max_length=40, description="an address of the reader's address book instead"
    )
    pickup_library_code: str | None = Field(None, max_length=12)
    channel: Literal["alipay", "wechat", "pc"] | None = Field(
        None, description="where the order came from; default: the caller's channel"
    )


class PostageOut(Schema):
    payer: str = Field(description="platform | reader")
    fen: int


class LineOut(Schema):
    id: int
    title_id: int
    title: str
    status: str
    list_price_fen: int
    barcode: str
    carrier: str
    tracking_number: str
    reason: str


class StepOut(Schema):
    at: dt.datetime
    status: str
    note: str


class OrderOut(Schema):
    number: str
    status: str
    channel: str
    delivery_kind: str
    district_code: str
    recipient: str = Field(description="masked")
    phone: str = Field(description="masked")
    pickup_library_code: str | None
    postage: PostageOut
    list_price_total_fen: int
    credit_status: Literal["opening", "awaiting_confirmation", "open", "refused", "closed"] = Field(
        description=(
            "the credit order at the provider: `opening` (a task is opening it after the order "
            "committed), `awaiting_confirmation` (the reader confirms at `confirm_url`), `open`, "
            "`refused` (the order was cancelled for it; see `reason`), `closed`"
        )
    )
    confirm_url: str = Field(description="set while the reader must confirm at the provider")
    confirm_expires_at: dt.datetime | None
    placed_at: dt.datetime
    delivered_at: dt.datetime | None
    received_at: dt.datetime | None
    reason: str = Field(description="why the order closed, as a code (e.g. `credit:rejected`)")
    reason_text: str = Field(description="the same in the reader's words")
    lines: list[LineOut]
    timeline: list[StepOut]


class OrderListOut(Schema):
    count: int
    items: list[OrderOut]


class ShipLineIn(Schema):
    line_id: int
    barcode: str = Field(max_length=60)


class ShipmentIn(Schema):
    lines: list[ShipLineIn] = Field(min_length=1, max_length=50)
    carrier: str = Field(max_length=60)
    tracking_number: str = Field(max_length=60)


class RejectIn(Schema):
    reason: str = Field(max_length=400)


class SupplierOrderQuery(Schema):
    status: Literal["confirmed", "shipped", "delivered", "cancelled", "rejected"] | None = None


# --- helpers ----------------------------------------------------------------------------------


def _reader(request: HttpRequest, *, standing_only: bool = False) -> tuple[Reader, Actor]:
    reader = reader_from_request(request, standing_only=standing_only)
    if reader is None:
        raise NotAReader()
    actor = request.auth if getattr(request, "auth", None) else reader_actor(reader)
    return reader, actor


def order_out(order: Order) -> dict[str, Any]:
    home = order.delivery_kind == "home"
    return {
        "number": order.number,
        "status": order.status,
        "channel": order.channel,
        "delivery_kind": order.delivery_kind,
        "district_code": order.district_code,
        "recipient": mask_name(vault.unseal(order, "address_recipient_ct")) if home else "",
        "phone": mask_phone(vault.unseal(order, "address_phone_ct")) if home else "",
        "pickup_library_code": order.pickup_library.code if order.pickup_library_id else None,
        "postage": {"payer": order.postage_payer, "fen": order.postage_fen},
        "list_price_total_fen": order.list_price_total_fen,
        "credit_status": selectors.credit_status(order),
        "confirm_url": order.confirm_url,
        "confirm_expires_at": order.confirm_expires_at,
        "placed_at": order.placed_at,
        "delivered_at": order.delivered_at,
        "received_at": order.received_at,
        "reason": order.status_reason,
        "reason_text": selectors.reason_text(order.status_reason) if order.status_reason else "",
        "lines": [
            {
                "id": line.pk,
                "title_id": line.title_id,
                "title": line.title.title,
                "status": line.status,
                "list_price_fen": line.list_price_fen,
                "barcode": line.barcode,
                "carrier": line.shipment.carrier if line.shipment_id else "",
                "tracking_number": line.shipment.tracking_number if line.shipment_id else "",
                "reason": line.status_reason,
            }
            for line in order.lines.all()
        ],
        "timeline": selectors.order_timeline(order),
    }


def _placed_answer(order: Order) -> tuple[int, str, bytes]:
    """The response to placing ``order`` as the operation renders it (its schema, the API's
    renderer), for the idempotency record written in the placing transaction."""
    from xinyue.api import api  # the API this router is mounted on (imports this module)

    body = OrderOut.model_validate(order_out(order)).model_dump()
    content = api.renderer.render(None, body, response_status=201)  # type: ignore[arg-type]
    return 201, api.get_content_type(), content.encode() if isinstance(content, str) else content


def _response(status: int, content_type: str, body: bytes) -> HttpResponse:
    return HttpResponse(body, status=status, content_type=content_type)


def _reload(actor: Actor, order: Order) -> dict[str, Any]:
    return order_out(selectors.order_for(actor=actor, number=order.number))


# --- the reader's orders --------------------------------------------------------------------


@router.post(
    "/orders",
    response={201: OrderOut, **ERRORS},
    summary="Place an order (信阅借书) from a list of titles",
    description=(
        "One order per request; with an `Idempotency-Key` a retry returns the first answer. "
        "Refusals: `not_admitted`, `service_not_active`, `too_many_volumes`, `quota_exceeded` "
        "(detail says how many remain), `title_unavailable`, `duplicate_title`, "
        "`budget_exhausted`, `invalid` (field errors, e.g. an address outside Zhejiang). The "
        "answer is the `placed` order with `credit_status: opening`: the credit order is opened "
        "at the provider by a task after the commit. Poll `GET /api/v1/orders/{number}`: it "
        "becomes `confirmed` (`open`), carries a `confirm_url` while the reader must confirm at "
        "the provider (until `confirm_expires_at`), or is `cancelled` with `credit_status: "
        "refused` and the `reason` when the provider refuses (stock, quota and budget are "
        "released)."
    ),
)
def place(request: HttpRequest, payload: OrderIn) -> Status | HttpResponse:
    reader, actor = _reader(request, standing_only=True)  # placing reads no personal data
    claim = idempotency.claim_of(request)  # an Idempotency-Key: recorded with the order
    if claim is not None:
        claim.render = _placed_answer
    channel = Channel(payload.channel) if payload.channel else actor.channel
    pickup = None
    if payload.delivery_kind == "pickup" and payload.pickup_library_code:
        pickup = Library.objects.filter(code=payload.pickup_library_code).first()
    order = services.place_order(
        actor=actor,
        reader=reader,
        title_ids=payload.title_ids,
        channel=channel,
        delivery_kind=payload.delivery_kind,
        address=payload.address.dict() if payload.address else None,
        address_uid=payload.address_uid,
        pickup_library=pickup,
        idempotency_key=claim.key if claim is not None else "",
        claim=claim,
    )
    if claim is not None:
        if claim.response is not None:  # just placed: the answer written with the order
            return _response(*claim.response)
        first = claim.recorded_answer()  # a retry, or a duplicate that waited for the first
        if first is not None:
            return first
    if order.status == Order.Status.PLACED and "lines" in getattr(
        order, "_prefetched_objects_cache", {}
    ):
        return Status(201, order_out(order))  # just placed: written with its lines and event
    return Status(201, _reload(actor, order))  # a retried key: the first order as it is now


# A keyed placing records its answer in the placing transaction: the order row itself carries the
# key under a unique constraint, checked inside that transaction (core/idempotency.py).
idempotency.record_in_transaction("POST", "/api/v1/orders")


@router.get("/orders", response={200: OrderListOut, **ERRORS}, summary="The reader's orders")
def my_orders(request: HttpRequest) -> dict[str, Any]:
    reader, _actor = _reader(request)
    orders = list(selectors.orders_of_reader(reader_id=reader.pk)[:100])
    return {"count": len(orders), "items": [order_out(o) for o in orders]}


@router.get(
    "/orders/{number}",
    response={200: OrderOut, **ERRORS},
    summary="One order with its lines and status timeline",
    description="An order waiting for the provider is brought up to date first.",
)
def show(request: HttpRequest, number: str) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    if order.status == Order.Status.PLACED:
        services.refresh_order(actor=actor, order=order)
    return _reload(actor, order)


@router.post(
    "/orders/{number}/cancel",
    response={200: OrderOut, **ERRORS},
    summary="Cancel an order before it ships (releases stock, quota and budget)",
)
def cancel(request: HttpRequest, number: str) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    services.cancel_order(actor=actor, order=order)
    return _reload(actor, order)


@router.post(
    "/orders/{number}/receipt",
    response={200: OrderOut, **ERRORS},
    summary="The reader confirms the parcel arrived (starts the loans if not yet delivered)",
)
def receipt(request: HttpRequest, number: str) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    services.confirm_receipt(actor=actor, order=order)
    return _reload(actor, order)


# --- the supplier's queue ---------------------------------------------------------------------


@router.get(
    "/supplier/orders",
    response={200: OrderListOut, **ERRORS},
    tags=["supplier"],
    summary="Orders with lines of the calling supplier (the operator sees all)",
)
def supplier_orders(request: HttpRequest, filters: Query[SupplierOrderQuery]) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    orders = list(selectors.supplier_orders(actor=actor, status=filters.status)[:200])
    return {"count": len(orders), "items": [order_out(o) for o in orders]}


@router.post(
    "/supplier/orders/{number}/shipments",
    response={201: OrderOut, **ERRORS},
    tags=["supplier"],
    summary="Ship lines of an order (barcode per line; partial shipments allowed)",
)
def ship(request: HttpRequest, number: str, payload: ShipmentIn) -> Status:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    services.ship_lines(
        actor=actor,
        order=order,
        lines=[(line.line_id, line.barcode) for line in payload.lines],
        carrier=payload.carrier,
        tracking_number=payload.tracking_number,
    )
    return Status(201, _reload(actor, order))


@router.post(
    "/supplier/orders/{number}/lines/{line_id}/reject",
    response={200: OrderOut, **ERRORS},
    tags=["supplier"],
    summary="The supplier cannot fill a line: it is rejected and releases what it held",
)
def reject(request: HttpRequest, number: str, line_id: int, payload: RejectIn) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    services.reject_line(actor=actor, order=order, line_id=line_id, reason=payload.reason)
    return _reload(actor, order)


@router.post(
    "/supplier/orders/{number}/delivered",
    response={200: OrderOut, **ERRORS},
    tags=["supplier"],
    summary="Mark the shipped lines delivered: each starts a platform loan",
)
def delivered(request: HttpRequest, number: str) -> dict[str, Any]:
    actor: Actor = request.auth  # type: ignore[assignment]
    order = selectors.order_for(actor=actor, number=number)
    services.mark_delivered(actor=actor, order=order)
    return _reload(actor, order)


# --- the wait-list ------------------------------------------------------------------------------


class WaitListIn(Schema):
    title_id: int


class WaitListEntryOut(Schema):
    title_id: int
    title: str
    status: str = Field(
        description="waiting | notified (copies are in: order before window_ends_at)"
    )
    position: int = Field(description="1 = next to be told; 0 once told")
    joined_at: dt.datetime
    window_ends_at: dt.datetime | None


def _entry_out(entry: Any) -> dict[str, Any]:
    return {
        "title_id": entry.title_id,
        "title": entry.title.title,
        "status": entry.status,
        "position": services.wait_list_position(entry),
        "joined_at": entry.created_at,
        "window_ends_at": entry.window_ends_at,
    }


@router.get(
    "/wait-list",
    response={200: list[WaitListEntryOut], 401: ErrorOut, 403: ErrorOut},
    summary="The reader's wait-list entries (titles out of stock they want to be told about)",
)
def my_wait_list(request: HttpRequest) -> Any:
    reader, actor = _reader(request)
    return [_entry_out(e) for e in selectors.reader_wait_list(actor=actor, reader_id=reader.pk)]


@router.post(
    "/wait-list",
    response={201: WaitListEntryOut, **ERRORS},
    summary="Join the wait-list of a title that is out of stock",
    description=(
        "Readers are told (an in-app message) in the order they joined when copies come back, "
        "and each has the operator's window to order before the next is told. Joining twice is "
        "one entry. Refusals: `title_in_stock` (order it instead), `title_unavailable`."
    ),
)
def join_wait_list(request: HttpRequest, payload: WaitListIn) -> Any:
    reader, actor = _reader(request)
    entry = services.join_wait_list(actor=actor, reader=reader, title_id=payload.title_id)
    entry = selectors.reader_wait_list(actor=actor, reader_id=reader.pk)
    (mine,) = [e for e in entry if e.title_id == payload.title_id]
    return Status(201, _entry_out(mine))


@router.delete(
    "/wait-list/{title_id}",
    response={204: None, 401: ErrorOut, 403: ErrorOut},
    summary="Leave a title's wait-list (a turn held passes to the next reader; not on it: no-op)",
)
def leave_wait_list(request: HttpRequest, title_id: int) -> Any:
    reader, actor = _reader(request)
    services.leave_wait_list(actor=actor, reader=reader, title_id=title_id)
    return Status(204, None)
