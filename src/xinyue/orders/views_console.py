"""Console pages of platform orders: the supplier's orders to fill (pick, ship, reject a line,
mark delivered, the packing slip with the full address) and the operator's ordering rules and
budget (periods, top-ups, the ledger and its export). Thin: every change is a service call."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.core import clock
from xinyue.core.errors import DomainError, InvalidInput, NotFound
from xinyue.core.permissions import Action, require, require_operator
from xinyue.core.spreadsheets import csv_bytes, xlsx_bytes
from xinyue.libraries.divisions import full_name
from xinyue.orders import selectors, services
from xinyue.orders.forms_console import PeriodForm, RejectForm, RulesForm, ShipForm, TopUpForm
from xinyue.orders.models import BudgetPeriod, LedgerEntry, Order, OrderLine
from xinyue.suppliers.models import Supplier

# --- supplier: orders to fill ---------------------------------------------------------------


def _own_lines(request: HttpRequest, order: Order) -> list[OrderLine]:
    return selectors.lines_for_supplier(request.actor, order)


def _destination(order: Order) -> str:
    """Where the parcel goes, as far as the lists need to know: the district or the library."""
    if order.delivery_kind == "pickup" and order.pickup_library_id:
        return _("到馆自取：%(library)s") % {"library": order.pickup_library.name}
    return full_name(order.district_code) or order.district_code


def _order_or_404(request: HttpRequest, number: str) -> Order:
    try:
        return selectors.supplier_order(actor=request.actor, number=number)
    except NotFound:
        raise Http404 from None


@console_view
def supplier_orders(request: HttpRequest) -> HttpResponse:
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    view = request.GET.get("show", "fill")
    if view not in selectors.SUPPLIER_VIEWS:
        view = "fill"
    orders = list(selectors.supplier_queue(actor=request.actor, view=view)[:200])
    rows = []
    for order in orders:
        lines = _own_lines(request, order)
        rows.append(
            {
                "order": order,
                "destination": _destination(order),
                "pending": [x for x in lines if x.status == OrderLine.Status.PENDING],
                "shipped": [x for x in lines if x.status == OrderLine.Status.SHIPPED],
                "lines": lines,
            }
        )
    supplier = (
        Supplier.objects.filter(pk=request.actor.supplier_id).first()
        if request.actor.supplier_id
        else None
    )
    return render_console(
        request,
        "orders/console/supplier_orders.html",
        {"rows": rows, "view": view, "supplier": supplier},
    )


def _order_page(
    request: HttpRequest,
    order: Order,
    *,
    ship_form: ShipForm | None = None,
    reject_forms: dict[int, RejectForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    lines = _own_lines(request, order)
    pending = [x for x in lines if x.status == OrderLine.Status.PENDING]
    can_ship = order.status in (Order.Status.CONFIRMED, Order.Status.SHIPPED) and bool(pending)
    if ship_form is None and can_ship:
        ship_form = ShipForm(lines=pending)
    reject_forms = reject_forms or {}
    for line in pending:
        reject_forms.setdefault(line.pk, RejectForm(prefix=f"reject-{line.pk}"))
    shipments = {}
    for line in lines:
        if line.shipment_id:
            shipments.setdefault(line.shipment_id, {"shipment": line.shipment, "lines": []})
            shipments[line.shipment_id]["lines"].append(line)
    return render_console(
        request,
        "orders/console/supplier_order.html",
        {
            "order": order,
            "destination": _destination(order),
            "lines": [{"line": line, "reject_form": reject_forms.get(line.pk)} for line in lines],
            "ship_form": ship_form if can_ship else None,
            "shipments": list(shipments.values()),
            "can_deliver": order.status == Order.Status.SHIPPED
            and any(x.status == OrderLine.Status.SHIPPED for x in lines),
            "can_pack": selectors.may_reveal_address(request.actor, order),
        },
        status=status,
    )


@console_view
def supplier_order(request: HttpRequest, number: str) -> HttpResponse:
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    return _order_page(request, _order_or_404(request, number))


@console_view
@require_POST
def supplier_ship(request: HttpRequest, number: str) -> HttpResponse:
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    order = _order_or_404(request, number)
    pending = [x for x in _own_lines(request, order) if x.status == OrderLine.Status.PENDING]
    form = ShipForm(request.POST, lines=pending)
    if form.is_valid():
        try:
            services.ship_lines(
                actor=request.actor,
                order=order,
                lines=form.cleaned_data["lines"],
                carrier=form.cleaned_data["carrier"],
                tracking_number=form.cleaned_data["tracking_number"],
            )
        except InvalidInput as exc:
            for key, message in exc.fields.items():
                form.add_error(form.field_for_service_error(key), message)
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            form.add_error(None, exc.message)
        else:
            messages.success(
                request,
                _("已发货 %(count)s 册，运单号 %(tracking)s")
                % {
                    "count": len(form.cleaned_data["lines"]),
                    "tracking": form.cleaned_data["tracking_number"],
                },
            )
            return redirect("orders:console_supplier_order", number=order.number)
    return _order_page(request, order, ship_form=form, status=422)


@console_view
@require_POST
def supplier_reject(request: HttpRequest, number: str, line_id: int) -> HttpResponse:
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    order = _order_or_404(request, number)
    line = next((x for x in _own_lines(request, order) if x.pk == line_id), None)
    if line is None:
        raise Http404
    form = RejectForm(request.POST, prefix=f"reject-{line.pk}")
    if form.is_valid():
        try:
            services.reject_line(
                actor=request.actor,
                order=order,
                line_id=line.pk,
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已退回《%(title)s》，所占库存、配额和预算已释放") % {"title": line.title.title},
            )
            return redirect("orders:console_supplier_order", number=order.number)
    return _order_page(request, order, reject_forms={line.pk: form}, status=422)


@console_view
@require_POST
def supplier_delivered(request: HttpRequest, number: str) -> HttpResponse:
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    order = _order_or_404(request, number)
    try:
        services.mark_delivered(actor=request.actor, order=order)
    except DomainError as exc:
        if exc.http_status == 403:
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("已确认送达，借阅开始计时"))
    return redirect("orders:console_supplier_order", number=order.number)


@console_view
def supplier_packing(request: HttpRequest, number: str) -> HttpResponse:
    """The packing slip: the only page with the full address, and each view is audited."""
    require(request.actor, Action.WORK_FOR_SUPPLIER)
    order = _order_or_404(request, number)
    address = services.reveal_delivery_address(actor=request.actor, order=order)
    lines = [
        x
        for x in _own_lines(request, order)
        if x.status in (OrderLine.Status.PENDING, OrderLine.Status.SHIPPED)
    ]
    response = render_console(
        request,
        "orders/console/packing.html",
        {"order": order, "address": address, "lines": lines},
    )
    response["Cache-Control"] = "no-store"
    return response


# --- operator: rules ------------------------------------------------------------------------


@console_view
def rules(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    current = selectors.platform_rules()
    form = RulesForm(request.POST or None, initial=RulesForm.initial_from(current))
    if request.method == "POST" and form.is_valid():
        try:
            services.set_rules(actor=request.actor, **form.service_values())
        except InvalidInput as exc:
            for key, message in exc.fields.items():
                name = RulesForm.form_field(key)
                form.add_error(name if name in form.fields else None, message)
        else:
            messages.success(request, _("已保存信阅借书规则"))
            return redirect("orders:console_rules")
    return render_console(
        request,
        "orders/console/rules.html",
        {
            "form": form,
            "home_postage": selectors.postage_for(delivery_kind="home", rules=current),
            "pickup_postage": selectors.postage_for(delivery_kind="pickup", rules=current),
        },
        status=422 if form.errors else 200,
    )


# --- operator: budget -----------------------------------------------------------------------


@console_view
def budget(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    form = PeriodForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            period = services.open_budget_period(actor=request.actor, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已开设预算期 %(name)s") % {"name": period.name})
            return redirect("orders:console_budget_period", period_id=period.pk)
    current = selectors.current_budget_period()
    return render_console(
        request,
        "orders/console/budget.html",
        {
            "periods": selectors.budget_periods(),
            "current": current,
            "form": form,
        },
        status=422 if form.errors else 200,
    )


def _ledger_header() -> list[str]:
    return [
        _("时间"),
        _("类型"),
        _("金额（分）"),
        _("分片"),
        _("订单号"),
        _("书目"),
        _("操作者"),
        _("备注"),
    ]


def _ledger_rows(period: BudgetPeriod) -> list[list[Any]]:
    return [
        [
            clock.local(entry.at).strftime("%Y-%m-%d %H:%M:%S"),
            str(LedgerEntry.Kind(entry.kind).label),
            entry.amount_fen,
            entry.slot,
            entry.order.number if entry.order_id else "",
            entry.line.title.title if entry.line_id else "",
            entry.actor_ref,
            entry.note,
        ]
        for entry in selectors.ledger_entries(period=period).iterator(chunk_size=2000)
    ]


@console_view
def budget_period(request: HttpRequest, period_id: int) -> HttpResponse:
    require_operator(request.actor)
    period = get_object_or_404(BudgetPeriod, pk=period_id)
    form = TopUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.top_up_budget(
                actor=request.actor,
                period=period,
                amount_fen=form.cleaned_data["amount"],
                note=form.cleaned_data["note"],
            )
        except DomainError as exc:
            if isinstance(exc, InvalidInput) and "amount_fen" in exc.fields:
                form.add_error("amount", exc.fields["amount_fen"])
            else:
                apply_domain_error(form, exc)
        else:
            messages.success(
                request,
                _("已追加预算 %(fen)s 分") % {"fen": form.cleaned_data["amount"]},
            )
            return redirect("orders:console_budget_period", period_id=period.pk)
    figures = selectors.period_figures(period=period)
    kinds = selectors.ledger_kind_totals(period=period)
    page = Paginator(selectors.ledger_entries(period=period), 100).get_page(request.GET.get("page"))
    return render_console(
        request,
        "orders/console/budget_period.html",
        {
            "period": period,
            "figures": figures,
            "kinds": [
                {"kind": kind, "label": label, "fen": kinds[kind]}
                for kind, label in LedgerEntry.Kind.choices
            ],
            "page": page,
            "form": form,
        },
        status=422 if form.errors else 200,
    )


@console_view
def budget_ledger_export(request: HttpRequest, period_id: int, fmt: str) -> HttpResponse:
    """The period's whole ledger as a spreadsheet (fen, one row per entry, totals per kind)."""
    require_operator(request.actor)
    if fmt not in ("xlsx", "csv"):
        raise Http404
    period = get_object_or_404(BudgetPeriod, pk=period_id)
    rows = _ledger_rows(period)
    kinds = selectors.ledger_kind_totals(period=period)
    rows.append([])
    for kind, label in LedgerEntry.Kind.choices:
        rows.append([_("合计"), str(label), kinds[kind], None, None, None, None, None])
    header = _ledger_header()
    filename = f"ledger-{period.pk}-{clock.today():%Y%m%d}.{fmt}"
    if fmt == "xlsx":
        body = xlsx_bytes(header, rows, title=f"ledger {period.pk}")
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body = csv_bytes(header, rows)
        content_type = "text/csv; charset=utf-8"
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
