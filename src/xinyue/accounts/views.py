"""Pages: staff log-in, the console home, staff management, API keys, the audit log."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _

from xinyue.accounts import selectors, services
from xinyue.accounts.audit_display import describe
from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.accounts.forms import ApiKeyForm, StaffForm, StaffLoginForm
from xinyue.accounts.models import ApiKey, User
from xinyue.core.actors import ActorKind
from xinyue.core.errors import DomainError
from xinyue.core.models import AuditEntry
from xinyue.core.permissions import require_operator
from xinyue.libraries.models import Library


class LoginView(auth_views.LoginView):
    template_name = "accounts/login.html"
    form_class = StaffLoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form: StaffLoginForm) -> HttpResponse:
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        elif form.has_error(NON_FIELD_ERRORS, "invalid_login"):
            response.status_code = 401
        else:
            response.status_code = 422
        return response

    def get_default_redirect_url(self) -> str:
        return "/console/"


@console_view
def console_home(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    context: dict = {}
    if actor.is_operator:
        context["library_count"] = Library.objects.count()
        context["active_library_count"] = Library.objects.filter(is_active=True).count()
        context["staff_count"] = User.objects.filter(kind=User.Kind.STAFF, is_active=True).count()
        context["api_key_count"] = ApiKey.objects.filter(revoked_at__isnull=True).count()
    elif actor.kind is ActorKind.STAFF:
        context["staff_count"] = User.objects.filter(
            kind=User.Kind.STAFF, library_id=actor.library_id
        ).count()
    return render_console(request, "accounts/console_home.html", context)


@console_view
def console_staff(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    staff = selectors.staff_users(actor=actor)
    form = StaffForm(request.POST or None)
    if not actor.is_operator:
        del form.fields["library"]
    if request.method == "POST" and form.is_valid():
        library = form.cleaned_data.get("library") if actor.is_operator else request.user.library
        if library is None:
            form.add_error("library", _("请选择成员馆"))
        else:
            try:
                user = services.create_staff_user(
                    actor=actor,
                    library=library,
                    username=form.cleaned_data["username"],
                    password=form.cleaned_data["password"],
                    display_name=form.cleaned_data["display_name"],
                    role=form.cleaned_data["role"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已添加馆员 %(name)s") % {"name": user.username})
                return redirect("accounts:console_staff")
    page = Paginator(staff, 50).get_page(request.GET.get("page"))
    return render_console(
        request,
        "accounts/console_staff.html",
        {"page": page, "form": form, "can_manage": selectors.can_manage_staff(actor)},
        status=422 if form.errors else 200,
    )


@console_view
def console_staff_toggle(request: HttpRequest, user_id: int) -> HttpResponse:
    if request.method != "POST":
        return redirect("accounts:console_staff")
    target = get_object_or_404(selectors.staff_users(actor=request.actor), pk=user_id)
    try:
        services.set_user_active(actor=request.actor, user=target, active=not target.is_active)
    except DomainError as exc:
        if exc.http_status == 403:
            raise  # a refusal is a 403 page (``console_view``), not a notice
        messages.error(request, exc.message)
    return redirect("accounts:console_staff")


@console_view
def console_api_keys(request: HttpRequest) -> HttpResponse:
    actor = request.actor
    keys = selectors.api_keys(actor=actor)
    form = ApiKeyForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            _key, new_token = services.create_api_key(
                actor=actor,
                name=form.cleaned_data["name"],
                scope=form.cleaned_data["scope"],
                library=form.cleaned_data["library"],
                supplier=form.cleaned_data["supplier"],
                role=form.cleaned_data["role"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            form = ApiKeyForm()
    return render_console(
        request,
        "accounts/console_api_keys.html",
        {"keys": keys, "form": form, "new_token": new_token},
        status=422 if form.errors else 200,
    )


@console_view
def console_api_key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    if request.method == "POST":
        key = get_object_or_404(selectors.api_keys(actor=request.actor), pk=key_id)
        services.revoke_api_key(actor=request.actor, api_key=key)
        messages.success(request, _("已吊销密钥 %(prefix)s") % {"prefix": key.prefix})
    return redirect("accounts:console_api_keys")


@console_view
def console_audit(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    entries = AuditEntry.objects.all()
    if action := request.GET.get("action"):
        entries = entries.filter(action__startswith=action)
    page = Paginator(entries, 100).get_page(request.GET.get("page"))
    return render_console(
        request,
        "accounts/console_audit.html",
        {"page": page, "lines": describe(page.object_list), "action": action or ""},
    )
