"""The reader's pages of platform orders (信阅借书): the confirm page after "借这些书" on the
bookshelf, 我的订单 (list, detail with the status timeline, cancel, confirm receipt) and
我的借阅. Thin: ``services.place_order`` and friends hold every rule; these pages show what
the reader may choose, pass it on, and put a refusal on the field it names."""

from __future__ import annotations

import uuid
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinyue.accounts.console import apply_domain_error
from xinyue.accounts.middleware import request_channel
from xinyue.catalog.selectors import portal
from xinyue.catalog.web import record_page_view
from xinyue.circulation.selectors import loans_of_reader
from xinyue.core import clock
from xinyue.core.errors import DomainError, InvalidInput
from xinyue.libraries import divisions
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import library_list
from xinyue.orders import selectors, services
from xinyue.orders.errors import IdempotencyMismatch, NoActiveService, NotAdmitted
from xinyue.orders.forms import PlaceOrderForm
from xinyue.orders.models import DeliveryKind, Order
from xinyue.readers import vault
from xinyue.readers.masking import mask_name, mask_phone
from xinyue.readers.selectors import addresses as address_selectors
from xinyue.readers.views import reader_required

# Where a refusal sends the reader next (the page that fixes it).
NEXT_STEP = {
    NotAdmitted.code: ("credit:authorize", gettext_lazy("重新完成信用授权")),
    NoActiveService.code: ("cards:get_card", gettext_lazy("去办理信用读者证")),
}


def _order_or_404(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.order_for(actor=request.actor, number=number)  # type: ignore[attr-defined]
    except DomainError as exc:
        raise Http404 from exc


# --- placing: the confirm page -------------------------------------------------------------


def _confirm_page(
    request: HttpRequest,
    form: PlaceOrderForm,
    title_ids: list[int],
    *,
    error: DomainError | None = None,
    status: int = 200,
) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    titles = portal.titles_by_ids(title_ids)
    limits = selectors.ordering_limits(reader_id=reader.pk)
    rules = selectors.platform_rules()
    book = address_selectors.reader_addresses(actor=request.actor, reader=reader)  # type: ignore[attr-defined]
    chosen_kind = form["delivery_kind"].value() or DeliveryKind.HOME
    chosen_address = form["address_uid"].value() or next(
        (a.uid for a in book if a.is_default), book[0].uid if book else ""
    )
    next_step = None
    error_title = None
    if error is not None and error.detail.get("title_id"):
        error_title = next((t for t in titles if t.pk == error.detail["title_id"]), None)
    if error is not None and error.code in NEXT_STEP:
        url_name, label = NEXT_STEP[error.code]
        next_step = {"url": reverse(url_name), "label": label}
    return render(
        request,
        "orders/confirm.html",
        {
            "form": form,
            "titles": titles,
            "missing": len(title_ids) - len(titles),
            "total_fen": sum(t.list_price_fen for t in titles),
            "limits": limits,
            "too_many": len(title_ids) > limits.can_take,
            "postage": selectors.postage_rules(),
            "pickup_enabled": rules.pickup_enabled,
            "chosen_kind": chosen_kind,
            "addresses": [a.masked() for a in book],
            "chosen_address": chosen_address,
            "libraries": library_list(active_only=True) if rules.pickup_enabled else [],
            "chosen_library": form["pickup_library"].value() or "",
            "error": error,
            "next_step": next_step,
            "error_title": error_title,
            "add_address_url": reverse("readers:address_new")
            + "?"
            + _query_next(request, title_ids),
        },
        status=status,
    )


def _query_next(request: HttpRequest, title_ids: list[int]) -> str:
    """``next=`` back to this confirm page with the same titles (after adding an address)."""
    from urllib.parse import urlencode

    back = reverse("orders:new") + "?" + urlencode([("title_ids", t) for t in title_ids])
    return urlencode({"next": back})


@never_cache
@reader_required
def new_order(request: HttpRequest) -> HttpResponse:
    """GET: the books ticked on the shelf, the delivery choice and its postage rule, the limits.
    POST: place the order (``token`` makes a double submit one order)."""
    data = request.POST if request.method == "POST" else request.GET
    probe = PlaceOrderForm(data)
    probe.is_valid()
    title_ids = probe.cleaned_data.get("title_ids") or []
    if request.method != "POST":
        record_page_view(request)
        if not title_ids:
            messages.error(request, _("请先在书架上勾选要借的书"))
            return redirect("catalog:shelf")
        initial = {"title_ids": title_ids, "token": uuid.uuid4().hex}
        if data.get("delivery_kind") in DeliveryKind.values:
            initial["delivery_kind"] = data["delivery_kind"]
        return _confirm_page(request, PlaceOrderForm(initial=initial), title_ids)
    form = probe
    if form.errors:
        return _confirm_page(request, _fresh(form, title_ids), title_ids, status=422)
    return _place(request, form, title_ids)


def _fresh(form: PlaceOrderForm, title_ids: list[int]) -> PlaceOrderForm:
    """The same choices and errors with a new token (the old one may name a closed order)."""
    data = form.data.copy()
    data.setlist("title_ids", [str(t) for t in title_ids])
    data["token"] = uuid.uuid4().hex
    fresh = PlaceOrderForm(data)
    fresh.is_valid()
    for field, errors in form.errors.items():
        for error in errors:
            if error not in fresh.errors.get(field, []):
                fresh.add_error(field if field != "__all__" else None, error)
    return fresh


def _place(request: HttpRequest, form: PlaceOrderForm, title_ids: list[int]) -> HttpResponse:
    reader, actor = request.reader, request.actor  # type: ignore[attr-defined]
    kind = form.cleaned_data["delivery_kind"]
    home = kind == DeliveryKind.HOME
    pickup: Library | None = None
    if kind == DeliveryKind.PICKUP:
        code = form.cleaned_data["pickup_library"]
        pickup = Library.objects.filter(code=code).first() if code else None
    token = form.cleaned_data["token"]
    try:
        order = services.place_order(
            actor=actor,
            reader=reader,
            title_ids=title_ids,
            channel=request_channel(request),
            delivery_kind=kind,
            address_uid=(form.cleaned_data["address_uid"] or None) if home else None,
            pickup_library=pickup,
            idempotency_key=f"page:{token}",
        )
    except IdempotencyMismatch:
        # The same page submitted twice while the first was still being placed.
        existing = Order.objects.filter(reader=reader, idempotency_key=f"page:{token}").first()
        if existing is not None:
            return redirect("orders:detail", number=existing.number)
        raise
    except InvalidInput as exc:  # on the fields it names (address, library, titles)
        if "address" in exc.fields:
            exc.fields["address_uid"] = exc.fields.pop("address")
        apply_domain_error(form, exc)
        fresh = _fresh(form, title_ids)
        return _confirm_page(request, fresh, title_ids, status=exc.http_status)
    except DomainError as exc:  # a limit, a title, admittance, budget, the provider
        fresh = _fresh(form, title_ids)
        return _confirm_page(request, fresh, title_ids, error=exc, status=exc.http_status)
    if order.status == Order.Status.CANCELLED:  # a resubmitted page whose order was refused
        return redirect("orders:detail", number=order.number)
    # The credit order is being opened by a task; the order page follows it (and reloads while it
    # waits, for the confirmation link or the provider's answer).
    messages.success(request, _("下单成功，省馆为您买单；正在开通信用借还"))
    return redirect("orders:detail", number=order.number)


# --- my orders -----------------------------------------------------------------------------


@reader_required
def my_orders(request: HttpRequest) -> HttpResponse:
    record_page_view(request)
    orders = list(selectors.orders_of_reader(reader_id=request.reader.pk)[:100])  # type: ignore[attr-defined]
    return render(request, "orders/list.html", {"orders": orders})


def _delivery(order: Order) -> dict[str, str]:
    if order.delivery_kind == DeliveryKind.PICKUP:
        library = order.pickup_library
        return {"library": library.name if library else "", "address": ""}
    return {
        "region": divisions.full_name(order.district_code),
        "recipient": mask_name(vault.unseal(order, "address_recipient_ct")),
        "phone": mask_phone(vault.unseal(order, "address_phone_ct")),
    }


def _safe_confirm_url(url: str) -> str:
    return url if url.startswith(("https://", "http://")) else ""


@never_cache
@reader_required
def order_detail(request: HttpRequest, number: str) -> HttpResponse:
    """One order with its timeline; an order waiting for the provider is brought up to date
    first (the page reloads itself while it waits)."""
    record_page_view(request)
    order = _order_or_404(request, number)
    if order.status == Order.Status.PLACED:
        services.refresh_order(actor=request.actor, order=order)  # type: ignore[attr-defined]
        order = _order_or_404(request, number)
    waiting = order.status == Order.Status.PLACED
    return render(
        request,
        "orders/detail.html",
        {
            "order": order,
            "steps": selectors.reader_timeline(order),
            "lines": list(order.lines.all()),
            "delivery": _delivery(order),
            "reason": selectors.reason_text(order.status_reason),
            "can_cancel": selectors.can_cancel(order),
            "can_confirm_receipt": selectors.can_confirm_receipt(order),
            "waiting": waiting,
            "confirm_url": _safe_confirm_url(order.confirm_url) if waiting else "",
        },
    )


@reader_required
def cancel_order(request: HttpRequest, number: str) -> HttpResponse:
    """GET asks "取消这个订单？"; POST cancels (the service refuses once anything shipped)."""
    order = _order_or_404(request, number)
    if request.method != "POST":
        record_page_view(request)
        return render(
            request,
            "orders/cancel.html",
            {
                "order": order,
                "lines": list(order.lines.all()),
                "can_cancel": selectors.can_cancel(order),
            },
        )
    try:
        services.cancel_order(actor=request.actor, order=order, reason="reader")  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("订单已取消，所借额度已退回"))
    return redirect("orders:detail", number=order.number)


@require_POST
@reader_required
def confirm_receipt(request: HttpRequest, number: str) -> HttpResponse:
    order = _order_or_404(request, number)
    try:
        services.confirm_receipt(actor=request.actor, order=order)  # type: ignore[attr-defined]
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认收货，借期从送达之日算起"))
    return redirect("orders:detail", number=order.number)


# --- my loans ------------------------------------------------------------------------------

DUE_SOON_DAYS = 3


@reader_required
def my_loans(request: HttpRequest) -> HttpResponse:
    """Platform loans with their due dates, open first; overdue and due-soon are marked."""
    record_page_view(request)
    today = clock.today()
    loans: list[dict[str, Any]] = []
    for loan in loans_of_reader(reader_id=request.reader.pk)[:200]:  # type: ignore[attr-defined]
        days_left = (loan.due_on - today).days
        loans.append(
            {
                "loan": loan,
                "days_left": days_left,
                "overdue_days": -days_left if loan.is_overdue else 0,
                "due_soon": loan.is_open and 0 <= days_left <= DUE_SOON_DAYS,
            }
        )
    loans.sort(key=lambda row: (not row["loan"].is_open, row["loan"].due_on))
    return render(
        request,
        "orders/loans.html",
        {
            "open_loans": [row for row in loans if row["loan"].is_open],
            "past_loans": [row for row in loans if not row["loan"].is_open],
            "limits": selectors.ordering_limits(reader_id=request.reader.pk),  # type: ignore[attr-defined]
        },
    )
