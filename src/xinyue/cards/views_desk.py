"""The library desk in the console: look a reader up (masked, audited), issue a deposit card,
suspend / reinstate / cancel a card, decide link requests and manual reviews."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.accounts.console import (
    apply_domain_error,
    console_view,
    render_console,
    working_library,
)
from xinyue.cards import selectors
from xinyue.cards.errors import CardAlreadyHeld
from xinyue.cards.forms import DepositCardForm, LookupForm, NoteForm, ReasonForm
from xinyue.cards.services import issuing as services
from xinyue.cards.services import linking
from xinyue.core.actors import Actor
from xinyue.core.errors import DomainError
from xinyue.core.money import format_fen
from xinyue.core.permissions import require_staff
from xinyue.libraries.models import Library
from xinyue.readers.models import Reader

CARD_ACTIONS = {
    "suspend": services.suspend_card,
    "reinstate": services.reinstate_card,
    "cancel": services.cancel_card,
}


def _desk_actor(request: HttpRequest) -> Actor:
    return request.actor  # type: ignore[attr-defined]  # channel desk: ``accounts.middleware``


def _back_to(library: Library, actor: Actor, card_number: str = "") -> str:
    url = reverse("cards:desk_home")
    params = []
    if actor.library_id is None:
        params.append(f"library={library.code}")
    if card_number:
        params.append(f"card={card_number}")
    return url + ("?" + "&".join(params) if params else "")


@console_view
def desk_home(request: HttpRequest) -> HttpResponse:
    """Look a reader up. An ID number is only ever POSTed (never in a URL); a card number of
    this library may come back in ``?card=`` after an action."""
    actor = _desk_actor(request)
    library = working_library(request, actor)
    form = LookupForm(request.POST or None)
    found = None
    searched = False
    try:
        if request.method == "POST" and form.is_valid():
            searched = True
            found = services.look_up_reader(
                actor=actor,
                library=library,
                id_number=form.cleaned_data["id_number"],
                card_number=form.cleaned_data["card_number"],
            )
        elif request.method == "GET" and request.GET.get("card"):
            searched = True
            found = services.look_up_reader(
                actor=actor, library=library, card_number=request.GET["card"]
            )
    except DomainError as exc:
        # The form says what is wrong with the query; nothing was searched.
        searched = False
        apply_domain_error(form, exc)
    context = {
        "library": library,
        "form": form,
        "found": found,
        "searched": searched,
        "counts": selectors.card_counts(library=library),
        "pending_links": selectors.pending_link_requests(actor=actor)
        .filter(library=library)
        .count(),
        "pending_reviews": selectors.pending_reviews(actor=actor).filter(library=library).count(),
    }
    if found is not None:
        context["deposit_form"] = DepositCardForm(initial={"reader_ref": found.reader.uid})
        context["reason_form"] = ReasonForm()
        context["card_rows"] = [(c, format_fen(c.deposit_fen)) for c in found.cards]
        context["open_card_here"] = any(c.status != "cancelled" for c in found.cards)
    return render_console(
        request, "cards/desk/desk_home.html", context, status=422 if form.errors else 200
    )


@require_POST
@console_view
def desk_deposit_card(request: HttpRequest) -> HttpResponse:
    actor = _desk_actor(request)
    library = working_library(request, actor)
    form = DepositCardForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(_back_to(library, actor))
    reader = Reader.objects.filter(uid=form.cleaned_data["reader_ref"]).first()
    if reader is None:
        raise Http404
    try:
        card = services.issue_deposit_card(
            actor=actor, reader=reader, library=library, deposit_fen=form.cleaned_data["deposit"]
        )
    except CardAlreadyHeld:  # its message speaks to the reader; this is the clerk
        messages.error(request, _("该读者在本馆已有读者证"))
        return redirect(_back_to(library, actor))
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect(_back_to(library, actor))
    messages.success(
        request,
        _("已办理押金读者证 %(number)s，押金 %(deposit)s")
        % {"number": card.number, "deposit": format_fen(card.deposit_fen)},
    )
    return redirect(_back_to(library, actor, card.number))


@require_POST
@console_view
def desk_card_action(
    request: HttpRequest, library_code: str, number: str, action: str
) -> HttpResponse:
    actor = _desk_actor(request)
    if action not in CARD_ACTIONS:
        raise Http404
    library = Library.objects.filter(code=library_code).first()
    if library is None:
        raise Http404
    card = selectors.library_card(actor=actor, library=library, number=number)
    if card is None:
        raise Http404
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写原因"))
        return redirect(_back_to(library, actor, card.number))
    try:
        CARD_ACTIONS[action](actor=actor, card=card, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            {
                "suspend": _("已暂停读者证 %(number)s"),
                "reinstate": _("已恢复读者证 %(number)s"),
                "cancel": _("已注销读者证 %(number)s"),
            }[action]
            % {"number": card.number},
        )
    return redirect(_back_to(library, actor, card.number))


@console_view
def desk_requests(request: HttpRequest) -> HttpResponse:
    actor = _desk_actor(request)
    require_staff(actor)
    return render_console(
        request,
        "cards/desk/desk_requests.html",
        {
            "link_requests": [
                (r, selectors.masked_reader(r.reader))
                for r in selectors.pending_link_requests(actor=actor)[:200]
            ],
            "reviews": [
                (r, selectors.masked_reader(r.reader))
                for r in selectors.pending_reviews(actor=actor)[:200]
            ],
            "note_form": NoteForm(),
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@console_view
def desk_link_decision(request: HttpRequest, request_id: int, decision: str) -> HttpResponse:
    actor = _desk_actor(request)
    require_staff(actor)
    link_request = selectors.pending_link_requests(actor=actor).filter(pk=request_id).first()
    if link_request is None or decision not in {"approve", "refuse"}:
        raise Http404
    try:
        if decision == "approve":
            form = NoteForm(request.POST)
            form.is_valid()
            card = linking.approve_link_request(
                actor=actor, request=link_request, note=form.cleaned_data.get("note", "")
            )
            messages.success(
                request, _("已通过，读者证 %(number)s 已开通信阅服务") % {"number": card.number}
            )
        else:
            form = ReasonForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写不通过的原因"))
                return redirect("cards:desk_requests")
            linking.refuse_link_request(
                actor=actor, request=link_request, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("已退回绑定申请"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("cards:desk_requests")


@require_POST
@console_view
def desk_review_decision(request: HttpRequest, review_id: int, decision: str) -> HttpResponse:
    actor = _desk_actor(request)
    require_staff(actor)
    review = selectors.pending_reviews(actor=actor).filter(pk=review_id).first()
    if review is None or decision not in {"approve", "refuse"}:
        raise Http404
    try:
        if decision == "approve":
            form = NoteForm(request.POST)
            form.is_valid()
            services.approve_manual_review(
                actor=actor, review=review, note=form.cleaned_data.get("note", "")
            )
            messages.success(request, _("已通过审核，读者可在本馆免押金办证"))
        else:
            form = ReasonForm(request.POST)
            if not form.is_valid():
                messages.error(request, _("请填写不通过的原因"))
                return redirect("cards:desk_requests")
            services.refuse_manual_review(
                actor=actor, review=review, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("已退回审核申请"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("cards:desk_requests")
