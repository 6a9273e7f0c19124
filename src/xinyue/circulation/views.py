"""Console pages of circulation: the return desk (made for a barcode scanner), desk lending by
card or card QR, and the circulation rules with the page that explains which rule applies."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.accounts.console import (
    apply_domain_error,
    console_view,
    render_console,
    working_library,
)
from xinyue.circulation import selectors, services
from xinyue.circulation.errors import CardUnknown, CreditRecordNotFound, RuleNotFound
from xinyue.circulation.forms import (
    BarcodeForm,
    CardForm,
    ExplainForm,
    MoneyDeskForm,
    RuleForm,
)
from xinyue.circulation.models import CirculationRule, ItemType, Program
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.errors import DomainError, InvalidInput
from xinyue.core.money import fen_to_yuan
from xinyue.core.permissions import Action, allowed, require
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import operator_library
from xinyue.readers.views import reader_required

RECENT = 12  # results kept on the desk pages


def _actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]


def _self_url(name: str, library: Library, actor: Actor) -> str:
    url = reverse(name)
    return url if actor.library_id else f"{url}?library={library.code}"


# --- the return desk ------------------------------------------------------------------------


@console_view
def desk_returns(request: HttpRequest) -> HttpResponse:
    """Courier and locker returns booked to this library: staff record the hand-off to the
    carrier (or the locker's emptying) and check the book in when it arrives."""
    actor = _actor(request)
    library = working_library(request, actor, Action.CIRCULATE)
    if request.method == "POST":
        loan_id = request.POST.get("loan", "")
        loan = next(
            (
                row.loan
                for row in selectors.booked_returns(library_id=library.pk)
                if loan_id.isdigit() and row.loan.pk == int(loan_id)
            ),
            None,
        )
        if loan is None:
            messages.error(request, _("找不到这笔预约归还，可能已经签收"))
        else:
            try:
                if request.POST.get("step") == "checkin":
                    result = services.check_in(
                        actor=actor, library=library, barcode=loan.item.barcode
                    )
                    messages.success(request, result.message)
                else:
                    services.record_hand_over(actor=actor, loan=loan)
                    messages.success(
                        request,
                        _("《%(title)s》已交寄，借期停止计算") % {"title": loan.item.title.title},
                    )
            except DomainError as exc:
                messages.error(request, exc.message)
        return redirect(_self_url("circulation:desk_returns", library, actor))
    return render_console(
        request,
        "circulation/desk_returns.html",
        {
            "library": library,
            "rows": selectors.booked_returns(library_id=library.pk),
            "late_days": selectors.CARRIER_LATE_DAYS,
            "action_url": _self_url("circulation:desk_returns", library, actor),
        },
    )


@console_view
def desk_checkin(request: HttpRequest) -> HttpResponse:
    """Scan, Enter: the book is checked in and the answer shown large; the input is emptied and
    keeps the focus for the next book; the last results stay listed below."""
    actor = _actor(request)
    library = working_library(request, actor, Action.CIRCULATE)
    key = f"desk_checkins:{library.code}"
    recent: list[dict[str, Any]] = request.session.get(key, [])
    form = BarcodeForm(request.POST or None)
    latest = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            barcode = form.cleaned_data["barcode"].strip()
            try:
                result = services.check_in(actor=actor, library=library, barcode=barcode)
                latest = {
                    "kind": "transferred"
                    if result.transferred and not result.already_returned
                    else ("repeat" if result.already_returned else "ok"),
                    "barcode": result.item.barcode,
                    "title": result.item.title.title,
                    "message": result.message,
                    "already": result.already_returned,
                }
            except DomainError as exc:
                if isinstance(exc, InvalidInput):
                    status = 422
                latest = {
                    "kind": "error",
                    "barcode": barcode[:64],
                    "title": "",
                    "message": exc.message,
                    "already": False,
                }
            latest["at"] = clock.local(clock.now()).strftime("%H:%M:%S")
            recent = [latest, *recent][:RECENT]
            request.session[key] = recent
            form = BarcodeForm()
        else:
            status = 422
    return render_console(
        request,
        "circulation/desk_checkin.html",
        {
            "library": library,
            "form": form,
            "latest": latest,
            "recent": recent[1:] if latest else recent,
            "action_url": _self_url("circulation:desk_checkin", library, actor),
        },
        status=status,
    )


# --- desk lending ---------------------------------------------------------------------------


@console_view
def desk_checkout(request: HttpRequest) -> HttpResponse:
    """Scan the reader's card (or the card QR on their phone), then the books, one per Enter.
    The reader stays chosen until "done"; every refusal says why."""
    from xinyue.cards.selectors import library_card, masked_reader

    actor = _actor(request)
    library = working_library(request, actor, Action.CIRCULATE)
    key = f"desk_checkout:{library.code}"
    state: dict[str, Any] = request.session.get(key) or {}
    card = (
        library_card(actor=actor, library=library, number=state["card"])
        if state.get("card")
        else None
    )
    latest = None
    status = 200
    card_form = CardForm(request.POST if request.POST.get("step") == "card" else None)
    item_form = BarcodeForm(request.POST if request.POST.get("step") == "item" else None)
    if request.method == "POST" and request.POST.get("step") == "done":
        request.session.pop(key, None)
        return redirect(_self_url("circulation:desk_checkout", library, actor))
    if request.method == "POST" and request.POST.get("step") == "card":
        if card_form.is_valid():
            number = card_form.cleaned_data["card_number"].strip()
            card = library_card(actor=actor, library=library, number=number)
            if card is None:
                latest = {"kind": "error", "message": str(CardUnknown.default_message)}
                state = {}
            else:
                state = {"card": card.number, "loans": []}
            request.session[key] = state
            card_form = CardForm()
        else:
            status = 422
    elif request.method == "POST" and request.POST.get("step") == "item":
        if card is None:
            latest = {"kind": "error", "message": _("请先扫描读者证")}
        elif item_form.is_valid():
            barcode = item_form.cleaned_data["barcode"].strip()
            try:
                loan = services.check_out(
                    actor=actor, library=library, reader=card.reader, barcode=barcode
                )
                latest = {
                    "kind": "ok",
                    "message": _("《%(title)s》已借出，应还日期 %(due)s")
                    % {"title": loan.item.title.title, "due": loan.due_on.isoformat()},
                }
                entry = {
                    "barcode": loan.item.barcode,
                    "title": loan.item.title.title,
                    "due_on": loan.due_on.isoformat(),
                }
                if entry not in state.get("loans", []):
                    state["loans"] = [entry, *state.get("loans", [])][:RECENT]
                request.session[key] = state
            except DomainError as exc:
                if isinstance(exc, InvalidInput):
                    status = 422
                blocks = exc.detail.get("blocks") or []
                latest = {"kind": "error", "message": exc.message, "blocks": blocks}
            item_form = BarcodeForm()
        else:
            status = 422
    reader_info = None
    if card is not None:
        reader = card.reader
        reader_info = {
            "card": card,
            "name": masked_reader(reader)["name"],
            "blocks": selectors.reader_blocks(reader),
            "open_loans": selectors.open_loans(reader).filter(library=library).count(),
        }
    return render_console(
        request,
        "circulation/desk_checkout.html",
        {
            "library": library,
            "card_form": card_form,
            "item_form": item_form,
            "reader": reader_info,
            "latest": latest,
            "loans": state.get("loans", []),
            "action_url": _self_url("circulation:desk_checkout", library, actor),
        },
        status=status,
    )


# --- money at the desk -----------------------------------------------------------------------

MONEY_STEPS = {
    "compensation": services.pay_compensation_at_desk,
    "unpaid": services.pay_compensation_at_desk,
    "refund": services.refund_compensation_at_desk,
}


@console_view
def desk_money(request: HttpRequest) -> HttpResponse:
    """赔偿与退款: scan the reader's card (or the book), see each sum the desk can settle (a lost
    book's compensation, the rest above the deposit cap, a found book's refund) and record it
    once the money has changed hands. Every amount is the service's, never typed by staff."""
    from xinyue.cards.selectors import masked_reader
    from xinyue.readers.models import Reader

    actor = _actor(request)
    library = working_library(request, actor, Action.CIRCULATE)
    key = f"desk_money:{library.code}"
    reader = Reader.objects.filter(pk=request.session.get(key) or 0).first()
    form = MoneyDeskForm(request.POST if request.POST.get("step") == "reader" else None)
    status = 200
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step == "done":
        request.session.pop(key, None)
        return redirect(_self_url("circulation:desk_money", library, actor))
    if step == "reader":
        if form.is_valid():
            reader = selectors.desk_money_reader(
                actor=actor, library=library, scanned=form.cleaned_data["scanned"]
            )
            if reader is None:
                form.add_error("scanned", _("本馆没有这个读者证号，也没有待结清款项的这本书"))
                status = 422
            else:
                request.session[key] = reader.pk
                return redirect(_self_url("circulation:desk_money", library, actor))
        else:
            status = 422
    elif step in MONEY_STEPS:
        loan_id = request.POST.get("loan", "")
        due = (
            selectors.desk_money(actor=actor, library_id=library.pk, reader=reader)
            if reader is not None
            else []
        )
        row = next(
            (r for r in due if r.kind == step and loan_id.isdigit() and r.loan.pk == int(loan_id)),
            None,
        )
        if row is None:
            messages.error(request, _("这笔款项已不需要处理，请核对后再试"))
        else:
            try:
                MONEY_STEPS[step](actor=actor, library=library, loan=row.loan)
                done = (
                    _("已退还《%(title)s》的赔偿款 %(amount)s 元")
                    if step == "refund"
                    else _("已收取《%(title)s》的赔偿款 %(amount)s 元")
                )
                messages.success(
                    request,
                    done
                    % {"title": row.loan.item.title.title, "amount": fen_to_yuan(row.amount_fen)},
                )
            except DomainError as exc:
                messages.error(request, exc.message)
        return redirect(_self_url("circulation:desk_money", library, actor))
    reader_info = None
    if reader is not None:
        reader_info = {
            "name": masked_reader(reader)["name"],
            "rows": selectors.desk_money(actor=actor, library_id=library.pk, reader=reader),
        }
    return render_console(
        request,
        "circulation/desk_money.html",
        {
            "library": library,
            "form": form,
            "reader": reader_info,
            "action_url": _self_url("circulation:desk_money", library, actor),
        },
        status=status,
    )


# --- the rules ------------------------------------------------------------------------------


def _describe(rule: CirculationRule) -> dict[str, str]:
    from xinyue.cards.models import Card

    kinds = dict(Card.Kind.choices)
    return {
        "library": rule.library.name if rule.library_id else _("全省默认"),
        "reader_category": str(kinds.get(rule.reader_category, _("任意"))),
        "item_type": str(dict(ItemType.choices).get(rule.item_type, _("任意"))),
        "program": str(dict(Program.choices).get(rule.program, _("任意"))),
    }


@console_view
def console_rules(request: HttpRequest) -> HttpResponse:
    """The rules that apply at a library (the province's and its own), a form to add or change
    one, and "which rule applies to this reader and this item here, and why"."""
    from xinyue.cards.selectors import library_card

    actor = _actor(request)
    library = working_library(request, actor, Action.WORK_AT_LIBRARY)
    may_edit_library = allowed(actor, Action.MANAGE_LIBRARY, library_id=library.pk)
    may_edit_province = allowed(actor, Action.RUN_PLATFORM)
    form = RuleForm(request.POST or None)
    status = 200
    if request.method == "POST":
        scope = request.POST.get("scope", "library")
        target = None if scope == "province" else library
        if form.is_valid():
            try:
                services.save_rule(actor=actor, library=target, values=form.cleaned_data)
                return redirect(_self_url("circulation:console_rules", library, actor))
            except DomainError as exc:
                if exc.http_status == 403:
                    raise
                apply_domain_error(form, exc)
        status = 422
    explain = ExplainForm(request.GET if "program" in request.GET else None)
    choice = None
    explain_error = ""
    if explain.is_bound and explain.is_valid():
        data = explain.cleaned_data
        category = data["reader_category"]
        if data["card_number"]:
            card = library_card(actor=actor, library=library, number=data["card_number"])
            if card is None:
                explain_error = str(CardUnknown.default_message)
            else:
                category = card.kind
        item_type = data["item_type"]
        if data["barcode"]:
            item = selectors.item_by_barcode(data["barcode"])
            if item is None:
                explain_error = _("条码不存在：本平台没有这册书")
            else:
                item_type = item.item_type
        if not explain_error:
            choice = selectors.applicable_rule(
                library_id=library.pk,
                reader_category=category,
                item_type=item_type,
                program=data["program"],
            )
    rules = list(selectors.rules_visible(library=library))
    return render_console(
        request,
        "circulation/console_rules.html",
        {
            "library": library,
            "rows": [(rule, _describe(rule)) for rule in rules],
            "form": form,
            "may_edit_library": may_edit_library,
            "may_edit_province": may_edit_province,
            "explain": explain,
            "choice": choice,
            "candidates": [(rule, _describe(rule)) for rule in choice.candidates] if choice else [],
            "winner": _describe(choice.rule) if choice else None,
            "explain_error": explain_error,
            "action_url": _self_url("circulation:console_rules", library, actor),
        },
        status=status,
    )


@console_view
@require_POST
def console_rule_delete(request: HttpRequest, rule_id: int) -> HttpResponse:
    actor = _actor(request)
    rule = CirculationRule.objects.select_related("library").filter(pk=rule_id).first()
    if rule is None:
        require(actor, Action.MANAGE_LIBRARY)
        raise Http404
    try:
        services.delete_rule(actor=actor, rule=rule)
    except RuleNotFound:
        raise Http404 from None
    library = rule.library or operator_library()
    if library is None:
        return redirect(reverse("circulation:console_rules"))
    return redirect(_self_url("circulation:console_rules", library, actor))


# --- the reader's renewal (a button on 我的借阅) ------------------------------------------------


@require_POST
@reader_required
def renew_my_loan(request: HttpRequest, loan_id: int) -> HttpResponse:
    """续借 from 我的借阅: only the reader's own loan (another's is 404, never "not yours"); the
    service decides and says why it refuses."""
    reader_id = _actor(request).reader_id
    loan = selectors.loans_of_reader(reader_id=reader_id).filter(pk=loan_id).first()
    if loan is None:
        raise Http404
    try:
        loan = services.renew_loan(actor=_actor(request), loan=loan)
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("《%(title)s》已续借，应还日期 %(due)s")
            % {"title": loan.item.title.title, "due": f"{loan.due_on:%Y-%m-%d}"},
        )
    return redirect("orders:loans")


# --- the reader's credit record, disputes, reconciliation drift --------------------------------


@reader_required
def my_compensation(request: HttpRequest) -> HttpResponse:
    """我的赔偿: each lost book's compensation, where it stands, and (for a deduction due or
    failed) a button that asks the credit provider for it now."""
    actor = _actor(request)
    reader = request.reader  # type: ignore[attr-defined]
    if request.method == "POST":
        loan = (
            selectors.loans_of_reader(reader_id=reader.pk)
            .filter(
                pk=request.POST.get("loan", "") if request.POST.get("loan", "").isdigit() else 0
            )
            .first()
        )
        if loan is None:
            raise Http404
        try:
            outcome = services.pay_compensation_through_provider(
                actor=actor, reader=reader, loan=loan
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            text = {
                "charged": _("信用服务方已扣款，赔偿已结清"),
                "waiting": _("同一订单的其他图书归还后，信用服务方会一并扣款"),
                "failed": _("信用服务方暂未扣款成功，平台会自动重试；也可以到任一成员馆服务台缴纳"),
            }[outcome]
            (messages.success if outcome == "charged" else messages.warning)(request, text)
        return redirect("circulation:my_compensation")
    bills = selectors.compensation_bills(actor=actor, reader=reader)
    return render(request, "circulation/my_compensation.html", {"bills": bills})


@reader_required
def my_credit_records(request: HttpRequest) -> HttpResponse:
    """我的信用记录: every record sent to the provider about the reader; a dispute per row."""
    actor = _actor(request)
    reader = request.reader  # type: ignore[attr-defined]
    if request.method == "POST":
        try:
            record_id = int(request.POST.get("record", ""))
        except ValueError:
            raise Http404 from None
        try:
            services.dispute_record(
                actor=actor,
                reader=reader,
                record_id=record_id,
                reason=request.POST.get("reason", ""),
            )
        except CreditRecordNotFound:
            raise Http404 from None
        except InvalidInput as exc:
            messages.error(request, " ".join(str(m) for m in exc.fields.values()))
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("异议已提交，图书馆处理后会在这里答复"))
        return redirect("circulation:my_credit_records")
    rows = selectors.credit_records_of_reader(actor=actor, reader=reader)[:500]
    return render(request, "circulation/my_credit_records.html", {"rows": rows})


@console_view
def console_disputes(request: HttpRequest) -> HttpResponse:
    """Open disputes of credit records for the staff's library (the operator: all); answer each:
    corrected (optionally a later due date sent to the provider) or rejected."""
    actor = _actor(request)
    require(actor, Action.ANSWER_CREDIT_DISPUTE)
    errors: dict[int, str] = {}
    if request.method == "POST":
        try:
            record_id = int(request.POST.get("record", ""))
        except ValueError:
            raise Http404 from None
        due_text = request.POST.get("due_on", "").strip()
        try:
            due_on = dt.date.fromisoformat(due_text) if due_text else None
            services.answer_dispute(
                actor=actor,
                record_id=record_id,
                correct=request.POST.get("decision") == "correct",
                answer=request.POST.get("answer", ""),
                due_on=due_on,
            )
        except ValueError:
            errors[record_id] = _("应还日期格式应为 YYYY-MM-DD")
        except CreditRecordNotFound:
            raise Http404 from None
        except InvalidInput as exc:
            errors[record_id] = " ".join(str(m) for m in exc.fields.values())
        except DomainError as exc:
            errors[record_id] = str(exc.message)
        else:
            messages.success(request, _("异议已处理"))
            return redirect("circulation:console_disputes")
    rows = selectors.open_disputes(actor=actor)
    return render_console(
        request,
        "circulation/console_disputes.html",
        {"rows": [(row, errors.get(row.pk, "")) for row in rows]},
    )


@console_view
def console_credit_drift(request: HttpRequest) -> HttpResponse:
    """What the nightly reconciliation found: credit orders whose state at the provider differs
    from ours, or that the provider could not be asked about."""
    require(_actor(request), Action.RUN_PLATFORM)
    return render_console(
        request, "circulation/console_credit_drift.html", {"rows": selectors.credit_drift()}
    )


# --- QR credit borrowing ----------------------------------------------------------------------


@console_view
def desk_borrow_session(request: HttpRequest) -> HttpResponse:
    """The desk scans the books, the page shows the QR code the reader scans with the phone."""
    from xinyue.circulation.qr import borrow_qr_svg, borrow_url

    actor = _actor(request)
    library = working_library(request, actor, Action.CIRCULATE)
    error = ""
    shown = None
    status = 200
    raw = request.POST.get("barcodes", "")[:2000] if request.method == "POST" else ""
    if request.method == "POST":
        barcodes = [part for part in raw.split() if part]
        try:
            session, token = services.start_borrow_session(
                actor=actor, library=library, barcodes=barcodes
            )
        except DomainError as exc:
            if exc.http_status == 403:
                raise
            error = exc.message
            if getattr(exc, "detail", {}).get("barcode"):
                error = f"{exc.detail['barcode']}：{error}"
            status = 422 if isinstance(exc, InvalidInput) else 409
            if isinstance(exc, InvalidInput):
                error = " ".join(str(v) for v in exc.detail.get("fields", {}).values()) or error
        else:
            url = borrow_url(token)
            shown = {
                "session": session,
                "items": services.session_items(session),
                "qr": borrow_qr_svg(url),
                "url": url,
            }
    return render_console(
        request,
        "circulation/desk_borrow.html",
        {
            "library": library,
            "barcodes": raw,
            "error": error,
            "shown": shown,
            "action_url": _self_url("circulation:desk_borrow_session", library, actor),
        },
        status=status,
    )


@reader_required
def borrow(request: HttpRequest, token: str) -> HttpResponse:
    """The page the QR code opens on the reader's phone: the library and the books, a confirm
    button; after it, the loans with their due dates. Expired or used codes say so."""
    from xinyue.circulation.errors import BorrowSessionNotFound

    actor = _actor(request)
    try:
        session = services.session_by_token(token)
    except BorrowSessionNotFound as exc:
        return render(request, "circulation/borrow.html", {"error": exc.message}, status=404)
    loans: list = []
    error = ""
    status = 200
    if request.method == "POST":
        try:
            session, loans = services.confirm_borrow_session(actor=actor, token=token)
        except DomainError as exc:
            error = exc.message
            status = 409
            session.refresh_from_db()
    elif session.status == session.Status.CONFIRMED and session.reader_id == actor.reader_id:
        from xinyue.circulation.services.borrowing import session_loans

        loans = list(session_loans(session))
    elif session.status != session.Status.OPEN and session.reader_id != actor.reader_id:
        error = str(_("二维码已使用过，请让馆员或自助机重新生成"))
        status = 409
    elif session.status == session.Status.FAILED:
        error = session.failure or str(_("未能借出"))
        status = 409
    elif session.status == session.Status.OPEN and session.is_expired:
        error = str(_("二维码已过期，请让馆员或自助机重新生成"))
        status = 409
    return render(
        request,
        "circulation/borrow.html",
        {
            "session": session,
            "items": services.session_items(session),
            "loans": loans,
            "error": error,
            "may_confirm": not loans and not error and session.status == session.Status.OPEN,
        },
        status=status,
    )


# --- courier or locker return (a button on 我的借阅) -----------------------------------------


@require_POST
@reader_required
def book_my_return(request: HttpRequest, loan_id: int) -> HttpResponse:
    """预约快递或书柜归还 from 我的借阅: the reader's own open loan (another's is 404)."""
    from xinyue.circulation.services.returns import RETURN_METHODS

    actor = _actor(request)
    loan = selectors.loans_of_reader(reader_id=actor.reader_id).filter(pk=loan_id).first()
    if loan is None:
        raise Http404
    method = request.POST.get("method", "")[:20]
    try:
        loan = services.book_return(actor=actor, loan=loan, method=method)
    except DomainError as exc:
        fields = exc.detail.get("fields", {}) if isinstance(exc, InvalidInput) else {}
        messages.error(request, " ".join(str(v) for v in fields.values()) or exc.message)
    else:
        messages.success(
            request,
            _("《%(title)s》已预约%(method)s归还；交寄后借期即停止计算，承运途中不会逾期")
            % {"title": loan.item.title.title, "method": RETURN_METHODS[loan.return_method]},
        )
    return redirect("orders:loans")
