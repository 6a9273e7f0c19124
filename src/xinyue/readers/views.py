"""Reader identity pages: register, log in/out, my account (masked data, cards, consents, phone,
export, delete, password) and the dev SMS outbox. Thin: every rule is in the services."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any
from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from xinyue.accounts.console import apply_domain_error
from xinyue.accounts.middleware import request_actor, request_channel
from xinyue.cards.models import Card
from xinyue.core import clock
from xinyue.core.errors import DomainError
from xinyue.libraries import divisions
from xinyue.readers import sms
from xinyue.readers.errors import LoginThrottled
from xinyue.readers.forms import (
    AddressForm,
    ChangePasswordForm,
    LoginForm,
    PasswordConfirmForm,
    PhoneCodeForm,
    RegisterForm,
)
from xinyue.readers.models import ConsentPurpose, SmsOutboxMessage
from xinyue.readers.selectors import addresses as address_selectors
from xinyue.readers.selectors import messages as message_selectors
from xinyue.readers.selectors import reader_from_request
from xinyue.readers.selectors.consents import (
    consent_states,
    consents_missing_for_credit_borrowing,
)
from xinyue.readers.selectors.identity import masked_identity, needs_phone_verification
from xinyue.readers.services import addresses as address_services
from xinyue.readers.services import consents as consent_services
from xinyue.readers.services import identity, phone, rights
from xinyue.readers.services import messages as message_services
from xinyue.readers.services.addresses import MAX_ADDRESSES


def _next_url(request: HttpRequest, default: str) -> str:
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def reader_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A reader's own page: sets ``request.reader`` (``request.actor`` is theirs, set by
    ``accounts.middleware``); others log in first."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        reader = reader_from_request(request)
        if reader is None:
            return redirect_to_login(request.get_full_path(), reverse("readers:login"))
        request.reader = reader  # type: ignore[attr-defined]
        request_actor(request)
        return view(request, *args, **kwargs)

    return wrapper


@never_cache  # after an error the page holds the typed ID number, name and phone
def register(request: HttpRequest) -> HttpResponse:
    if reader_from_request(request) is not None:
        return redirect("readers:account")
    form = RegisterForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            reader = identity.register_reader(
                id_number=form.cleaned_data["id_number"],
                name=form.cleaned_data["name"],
                phone=form.cleaned_data["phone"],
                password=form.cleaned_data["password"],
                consents=form.consents(),
                channel=request_channel(request),
                ip=identity.client_ip(request),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            identity.login_reader(request, reader)
            messages.success(request, _("注册成功，欢迎使用信阅"))
            return redirect(_next_url(request, reverse("readers:account")))
    texts = {t.purpose: t for t in _texts()}
    return render(
        request,
        "readers/register.html",
        {"form": form, "texts": texts, "next": _next_url(request, "")},
        status=422 if form.errors else 200,
    )


def _texts() -> list:
    return [consent_services.current_text(p) for p in ConsentPurpose.values]


@never_cache  # after an error the page holds the typed ID number
def login(request: HttpRequest) -> HttpResponse:
    if reader_from_request(request) is not None:
        return redirect(_next_url(request, reverse("readers:account")))
    form = LoginForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            reader = identity.authenticate_reader(
                id_number=form.cleaned_data["id_number"],
                password=form.cleaned_data["password"],
                ip=identity.client_ip(request),
            )
            identity.login_reader(request, reader)
        except LoginThrottled as exc:
            minutes = max(1, round(exc.detail.get("retry_after_seconds", 60) / 60))
            form.add_error(
                None,
                ngettext(
                    "登录失败次数过多，请 %(m)d 分钟后再试",
                    "登录失败次数过多，请 %(m)d 分钟后再试",
                    minutes,
                )
                % {"m": minutes},
            )
            status = 429
        except DomainError as exc:
            apply_domain_error(form, exc)
            status = exc.http_status
        else:
            return redirect(_next_url(request, reverse("readers:account")))
    elif form.errors:
        status = 422
    from xinyue.credit.services.channel_login import available_channels

    return render(
        request,
        "readers/login.html",
        {"form": form, "next": _next_url(request, ""), "channels": available_channels()},
        status=status,
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    identity.logout_reader(request)
    return redirect("/")


@reader_required
def account(request: HttpRequest) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    return render(
        request,
        "readers/account.html",
        {
            "reader": reader,
            "me": masked_identity(reader=reader),
            "consents": consent_states(reader=reader),
            "paused_by": consents_missing_for_credit_borrowing(reader=reader),
            "cards": Card.objects.filter(reader=reader).select_related("library"),
            "needs_phone": needs_phone_verification(reader=reader),
            "phone_form": PhoneCodeForm(),
        },
    )


@reader_required
def consent(request: HttpRequest, purpose: str) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    if purpose not in ConsentPurpose.values:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "grant":
                consent_services.grant_consent(actor=request.actor, reader=reader, purpose=purpose)  # type: ignore[attr-defined]
                messages.success(request, _("已授权"))
            elif action == "withdraw":
                consent_services.withdraw_consent(
                    actor=request.actor,  # type: ignore[attr-defined]
                    reader=reader,
                    purpose=purpose,
                )
                messages.success(request, _("已撤回授权，撤回记录已保存"))
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect(_next_url(request, reverse("readers:account")))
    state = next(s for s in consent_states(reader=reader) if s.purpose == purpose)
    return render(
        request,
        "readers/consent.html",
        {
            "text": consent_services.current_text(purpose),
            "state": state,
            "next": _next_url(request, ""),
        },
    )


@reader_required
@require_POST
def phone_verification(request: HttpRequest) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    try:
        if request.POST.get("action") == "send":
            phone.send_phone_code(actor=actor, reader=reader)
            messages.success(request, _("验证码已发送，10分钟内有效"))
        else:
            form = PhoneCodeForm(request.POST)
            code = form.data.get("code", "")
            phone.verify_phone_code(actor=actor, reader=reader, code=code)
            messages.success(request, _("手机号已验证"))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("readers:account")


@reader_required
def export(request: HttpRequest) -> HttpResponse:
    """The reader's complete copy, with personal data in clear, after re-entering the password."""
    reader = request.reader  # type: ignore[attr-defined]
    form = PasswordConfirmForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            identity.verify_password(reader=reader, password=form.cleaned_data["password"])
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            data = rights.export_reader_data(actor=request.actor, reader=reader, reveal=True)  # type: ignore[attr-defined]
            body = json.dumps(data, ensure_ascii=False, indent=2, cls=DjangoJSONEncoder)
            response = HttpResponse(body, content_type="application/json; charset=utf-8")
            stamp = clock.local(clock.now()).strftime("%Y%m%d")
            response["Content-Disposition"] = f'attachment; filename="xinyue-my-data-{stamp}.json"'
            response["Cache-Control"] = "no-store"
            return response
    return render(
        request, "readers/export.html", {"form": form}, status=422 if form.errors else 200
    )


@reader_required
def delete_account(request: HttpRequest) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    form = PasswordConfirmForm(request.POST or None)
    reasons = rights.open_obligations(reader=reader)
    if request.method == "POST" and form.is_valid():
        try:
            identity.verify_password(reader=reader, password=form.cleaned_data["password"])
            rights.delete_reader_account(actor=request.actor, reader=reader)  # type: ignore[attr-defined]
        except DomainError as exc:
            apply_domain_error(form, exc)
            reasons = exc.detail.get("reasons", reasons)
        else:
            identity.logout_reader(request)
            messages.success(request, _("账户已注销，您的个人信息已删除"))
            return redirect("/")
    return render(
        request,
        "readers/delete.html",
        {"form": form, "reasons": reasons},
        status=422 if form.errors else 200,
    )


@reader_required
def change_password(request: HttpRequest) -> HttpResponse:
    reader = request.reader  # type: ignore[attr-defined]
    form = ChangePasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            identity.change_password(
                actor=request.actor,  # type: ignore[attr-defined]
                reader=reader,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            reader.refresh_from_db()
            identity.login_reader(request, reader)  # this session stays; the others end
            messages.success(request, _("密码已修改，其他设备需要重新登录"))
            return redirect("readers:account")
    return render(
        request, "readers/password.html", {"form": form}, status=422 if form.errors else 200
    )


def sms_outbox(request: HttpRequest) -> HttpResponse:
    """Development only: the codes the outbox sender "sent". Exists only while verification is on
    without a real sender, and only in DEBUG or for the operator."""
    user = getattr(request, "user", None)
    allowed = settings.DEBUG or (
        user is not None and user.is_authenticated and user.kind == "operator"
    )
    if not sms.outbox_in_use() or not allowed:
        raise Http404
    return render(
        request, "readers/sms_outbox.html", {"messages_sent": SmsOutboxMessage.objects.all()[:50]}
    )


# ---- delivery address book ----------------------------------------------------------------


def _address_form_page(
    request: HttpRequest, form: AddressForm, *, address_uid: str = "", status: int = 200
) -> HttpResponse:
    return render(
        request,
        "readers/address_form.html",
        {"form": form, "address_uid": address_uid, "next": _next_url(request, "")},
        status=status,
    )


def _save_address(request: HttpRequest, form: AddressForm, *, uid: str = "") -> HttpResponse:
    """Validate through the service; on a refusal show it on the named fields (422)."""
    reader, actor = request.reader, request.actor  # type: ignore[attr-defined]
    form.is_valid()  # shapes only (lengths); the service decides the rest
    if form.errors:
        return _address_form_page(request, form, address_uid=uid, status=422)
    try:
        if uid:
            address_services.update_address(
                actor=actor, reader=reader, uid=uid, **form.address_values()
            )
        else:
            address_services.add_address(
                actor=actor,
                reader=reader,
                is_default=form.cleaned_data["is_default"],
                **form.address_values(),
            )
    except DomainError as exc:
        apply_domain_error(form, exc)
        return _address_form_page(request, form, address_uid=uid, status=422)
    messages.success(request, _("地址已保存"))
    # Back where the reader came from (the order confirm page), else the address book.
    return redirect(_next_url(request, reverse("readers:addresses")))


@reader_required
def addresses(request: HttpRequest) -> HttpResponse:
    """The reader's address book, masked; edit, delete, set the default."""
    book = address_selectors.reader_addresses(actor=request.actor, reader=request.reader)  # type: ignore[attr-defined]
    return render(
        request,
        "readers/addresses.html",
        {"addresses": [a.masked() for a in book], "can_add": len(book) < MAX_ADDRESSES},
    )


@reader_required
def address_new(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _address_form_page(request, AddressForm())
    form = AddressForm(request.POST)
    if "pick" in request.POST:  # no JavaScript: the next list of the picker
        return _address_form_page(request, form)
    return _save_address(request, form)


@reader_required
def address_edit(request: HttpRequest, uid: UUID) -> HttpResponse:
    reader, actor = request.reader, request.actor  # type: ignore[attr-defined]
    try:
        current = address_selectors.reader_address(actor=actor, reader=reader, uid=str(uid))
    except DomainError as exc:
        raise Http404 from exc
    if request.method != "POST":
        initial = {
            "province": divisions.PROVINCE_CODE,
            "city": current.city_code,
            "district_code": current.district_code,
            "detail": current.detail,
            "recipient": current.recipient,
            "phone": current.phone,
        }
        return _address_form_page(request, AddressForm(initial=initial), address_uid=current.uid)
    form = AddressForm(request.POST)
    if "pick" in request.POST:
        return _address_form_page(request, form, address_uid=current.uid)
    return _save_address(request, form, uid=current.uid)


@reader_required
@require_POST
def address_action(request: HttpRequest, uid: UUID, action: str) -> HttpResponse:
    reader, actor = request.reader, request.actor  # type: ignore[attr-defined]
    try:
        if action == "delete":
            address_services.delete_address(actor=actor, reader=reader, uid=str(uid))
            messages.success(request, _("地址已删除"))
        elif action == "default":
            address_services.set_default_address(actor=actor, reader=reader, uid=str(uid))
            messages.success(request, _("已设为默认地址"))
        else:
            raise Http404
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("readers:addresses")


@reader_required
def address_picker(request: HttpRequest) -> HttpResponse:
    """htmx: the province → city → district selects for what is picked so far."""
    return render(request, "readers/_address_picker.html", {"form": AddressForm(request.GET)})


@reader_required
def messages_page(request: HttpRequest) -> HttpResponse:
    """消息: the reader's notifications, newest first; "mark all read" or one at a time."""
    reader, actor = request.reader, request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        raw = request.POST.get("message_id", "")
        ids = [int(raw)] if raw.isdigit() else None
        try:
            message_services.mark_messages_read(actor=actor, reader=reader, message_ids=ids)
        except DomainError:
            raise Http404 from None
        return redirect("readers:messages")
    rows = message_selectors.reader_messages(actor=actor, reader=reader)
    return render(request, "readers/messages.html", {"rows": rows})
