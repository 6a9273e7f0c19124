"""Pages: the city switcher (portal) and the member-library console (operator, library admins)."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from xinyue.accounts.console import (
    apply_domain_error,
    console_view,
    render_console,
    webhook_console,
)
from xinyue.core.actors import Role
from xinyue.core.errors import DomainError
from xinyue.core.permissions import can_act_for_library, require_library, require_operator
from xinyue.libraries import selectors, services
from xinyue.libraries.errors import LibraryNotFound
from xinyue.libraries.forms import SECRET_SETTINGS, LibraryFileForm, LibraryForm, WebhookForm
from xinyue.libraries.models import Library
from xinyue.libraries.settings_schema import library_setting

CITY_SESSION_KEY = "city_code"


def choose_city(request: HttpRequest, code: str) -> HttpResponse:
    """Remember the reader's city: its notices and libraries are shown first."""
    if Library.objects.filter(code=code, level=Library.Level.CITY).exists():
        request.session[CITY_SESSION_KEY] = code
    target = request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return redirect(target)


def directory(request: HttpRequest) -> HttpResponse:
    """Public: the provincial library and each city library with its districts' libraries."""
    groups = selectors.public_directory()
    return render(request, "libraries/directory.html", {"groups": groups})


def library_page(request: HttpRequest, code: str) -> HttpResponse:
    """Public: one member library's address, phone, opening hours and deposit."""
    try:
        library = selectors.library_get(code=code)
    except LibraryNotFound as exc:
        raise Http404 from exc
    if not library.is_active:
        raise Http404
    return render(request, "libraries/library.html", {"library": library})


@console_view
def console_libraries(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    upload = LibraryFileForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and upload.is_valid():
        try:
            result = services.load_library_file(
                actor=request.actor, text=upload.cleaned_data["file"].read().decode("utf-8-sig")
            )
        except UnicodeDecodeError:
            upload.add_error("file", _("文件应为 UTF-8 编码的 CSV"))
        except DomainError as exc:
            apply_domain_error(upload, exc)
            for field, message in getattr(exc, "fields", {}).items():
                upload.add_error(None, f"{field}: {message}")
        else:
            messages.success(
                request,
                _("已导入：新增 %(c)d，更新 %(u)d，未变 %(n)d")
                % {"c": result.created, "u": result.updated, "n": result.unchanged},
            )
            return redirect("libraries:console_libraries")
    libraries = selectors.library_list().annotate(
        staff_count=Count("staff", filter=Q(staff__kind="staff", staff__is_active=True))
    )
    return render_console(
        request, "libraries/console_libraries.html", {"libraries": libraries, "upload": upload}
    )


@console_view
def console_library(request: HttpRequest, code: str) -> HttpResponse:
    """A library's page. Its admins (and the operator) edit contact details and settings; desk
    staff see the contact details only. Sub-libraries are listed where the actor may open them."""
    actor = request.actor
    library = selectors.library_get(code=code)
    require_library(actor, library.pk)
    children = [c for c in library.children.order_by("code") if can_act_for_library(actor, c.pk)]
    context = {"library": library, "children": children, "form": None}
    if not can_act_for_library(actor, library.pk, role=Role.ADMIN):
        if request.method == "POST":
            require_library(actor, library.pk, role=Role.ADMIN)
        return render_console(request, "libraries/console_library.html", context)
    initial = {
        "name": library.name,
        "address": library.address,
        "phone": library.phone,
        "opening_hours": library.opening_hours,
        "is_active": library.is_active,
        **{
            key: library_setting(library, key)
            for key in LibraryForm.SETTINGS
            if key not in SECRET_SETTINGS
        },
        "card_prefix": library.settings.get("card_prefix", ""),
    }
    form = LibraryForm(request.POST or None, initial=initial)
    if not actor.is_operator:
        form.fields["name"].disabled = True
        form.fields["is_active"].disabled = True
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_library(
                actor=actor,
                library=library,
                name=data["name"] if actor.is_operator else None,
                is_active=data["is_active"] if actor.is_operator else None,
                address=data["address"],
                phone=data["phone"],
                opening_hours=data["opening_hours"],
                settings_values=form.settings_values(),
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("libraries:console_library", code=library.code)
    return render_console(
        request,
        "libraries/console_library.html",
        {**context, "form": form},
        status=422 if form.errors else 200,
    )


@console_view
def console_webhooks(request: HttpRequest, code: str) -> HttpResponse:
    """A library admin's webhook subscriptions and the latest deliveries."""
    library = selectors.library_get(code=code)
    require_library(request.actor, library.pk, role=Role.ADMIN)
    return webhook_console(
        request,
        form_class=WebhookForm,
        subscribe=partial(services.subscribe_webhook, actor=request.actor, library=library),
        template="libraries/console_webhooks.html",
        context={
            "library": library,
            "subscriptions": selectors.webhook_subscriptions(library=library),
            "deliveries": selectors.recent_webhook_deliveries(library=library),
        },
    )
