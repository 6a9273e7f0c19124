"""Pages: authorize credit (reader), the authorization's result, the operator's provider
settings, and channel log-in through a provider's OAuth."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.accounts.middleware import request_actor, request_channel
from xinyue.core.errors import DomainError
from xinyue.core.middleware import page_policy
from xinyue.core.permissions import require_operator
from xinyue.credit import conf, selectors, services
from xinyue.credit.errors import ChannelLoginFailed, ProviderDisabled
from xinyue.credit.models import CreditAuthorization, Provider
from xinyue.credit.services import channel_login

CHANNEL_SESSION = "credit_channel_login"
PENDING_IDENTITY_SESSION = "credit_channel_identity"


# --- reader pages -----------------------------------------------------------------------------


def reader_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for a logged-in reader; others are sent to the reader log-in and back."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        from xinyue.readers.selectors import reader_from_request

        reader = reader_from_request(request)
        if reader is None:
            login = reverse("readers:login")
            return redirect(f"{login}?{urlencode({'next': request.get_full_path()})}")
        request.reader = reader  # type: ignore[attr-defined]
        request_actor(request)  # the reader's, with the channel (``accounts.middleware``)
        return view(request, *args, **kwargs)

    return wrapper


class AuthorizeForm(forms.Form):
    provider = forms.ChoiceField(label=gettext_lazy("信用服务"), widget=forms.RadioSelect)
    consent = forms.BooleanField(
        label=gettext_lazy("我已阅读并同意《信用评估授权》"), required=False
    )

    def __init__(self, *args: Any, providers: list, needs_consent: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["provider"].choices = [
            (s.provider, str(Provider(s.provider).label)) for s in providers
        ]
        if providers:
            self.fields["provider"].initial = providers[0].provider
        if not needs_consent:
            del self.fields["consent"]


def _credit_consent_text():
    from xinyue.readers.services.consents import current_text

    try:
        return current_text("credit_check")
    except DomainError:
        return None


@reader_view
def authorize(request: HttpRequest) -> HttpResponse:
    """Choose a provider (and consent to the credit check) → the provider's confirm page."""
    from xinyue.readers.selectors import has_consent

    reader = request.reader  # type: ignore[attr-defined]
    actor = request.actor  # type: ignore[attr-defined]
    providers = selectors.available_providers()
    needs_consent = not has_consent(reader=reader, purpose="credit_check")
    form = AuthorizeForm(request.POST or None, providers=providers, needs_consent=needs_consent)
    if request.method == "POST" and form.is_valid():
        if needs_consent and not form.cleaned_data.get("consent"):
            form.add_error("consent", _("信用评估需要您的授权同意"))
        else:
            try:
                if needs_consent:
                    from xinyue.readers.services.consents import grant_consent

                    grant_consent(actor=actor, reader=reader, purpose="credit_check")
                authorization = services.start_authorization(
                    actor=actor, reader=reader, provider=form.cleaned_data["provider"]
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                if authorization.confirm_url:
                    return redirect(authorization.confirm_url)
                # The provider is slow: wait on our page, which goes on once it is ready.
                result = reverse("credit:authorization", args=[authorization.pk])
                return redirect(f"{result}?next=confirm")
    response = render(
        request,
        "credit/authorize.html",
        {
            "form": form,
            "providers": providers,
            "admittance": selectors.current_admittance(reader=reader),
            "latest": selectors.latest_authorization(reader=reader),
            "consent_text": _credit_consent_text() if needs_consent else None,
        },
        status=422 if form.errors else 200,
    )
    response["Content-Security-Policy"] = page_policy(form_action=conf.provider_page_origins())
    return response


def _own_authorization(request: HttpRequest, authorization_id: int) -> CreditAuthorization:
    return selectors.authorization_get(
        actor=request.actor,  # type: ignore[attr-defined]
        authorization_id=authorization_id,
    )


def _domain_page(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return render(request, "credit/error.html", {"error": exc}, status=exc.http_status)


@reader_view
def authorization_return(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Back from the provider: the redirect is only a hint, so ask the provider, then show."""
    try:
        authorization = _own_authorization(request, authorization_id)
        services.refresh_authorization(actor=request.actor, authorization=authorization)  # type: ignore[attr-defined]
    except DomainError as exc:
        if exc.http_status == 404:
            return _domain_page(request, exc)
        messages.error(request, exc.message)
    return redirect("credit:authorization", authorization_id=authorization_id)


def _result_context(
    authorization: CreditAuthorization, request: HttpRequest | None = None
) -> dict[str, Any]:
    return {
        "authorization": authorization,
        "provider_label": Provider(authorization.provider).label,
        "go_confirm": request is not None and request.GET.get("next") == "confirm",
    }


@reader_view
def authorization_result(request: HttpRequest, authorization_id: int) -> HttpResponse:
    try:
        authorization = _own_authorization(request, authorization_id)
    except DomainError as exc:
        return _domain_page(request, exc)
    if request.method == "POST":  # "查询结果": the fallback query, by hand
        try:
            authorization = services.refresh_authorization(
                actor=request.actor,  # type: ignore[attr-defined]
                authorization=authorization,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        return redirect("credit:authorization", authorization_id=authorization.pk)
    return render(request, "credit/result.html", _result_context(authorization, request))


@reader_view
def authorization_status(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """The status block alone (htmx polls it while pending; it stops once decided)."""
    try:
        authorization = _own_authorization(request, authorization_id)
    except DomainError as exc:
        return _domain_page(request, exc)
    context = _result_context(authorization, request)
    response = render(request, "credit/_status.html", context)
    if (
        context["go_confirm"]
        and authorization.status == CreditAuthorization.Status.PENDING
        and authorization.confirm_url
    ):
        response["HX-Redirect"] = authorization.confirm_url  # ready: on to the provider
    return response


@require_POST
@reader_view
def authorization_cancel(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """Give up a pending authorization; the reader may start again at once."""
    try:
        authorization = _own_authorization(request, authorization_id)
        services.cancel_authorization(actor=request.actor, authorization=authorization)  # type: ignore[attr-defined]
    except DomainError as exc:
        return _domain_page(request, exc)
    return redirect("credit:authorize")


# --- operator console -------------------------------------------------------------------------


class SettingForm(forms.Form):
    enabled = forms.BooleanField(label=gettext_lazy("启用"), required=False)
    threshold = forms.IntegerField(label=gettext_lazy("准入分"))
    validity_days = forms.IntegerField(label=gettext_lazy("准入有效天数"))


@console_view
def console_settings(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)  # type: ignore[attr-defined]
    settings_rows = selectors.provider_settings()
    forms_by_provider = {}
    for setting in settings_rows:
        bound = request.method == "POST" and request.POST.get("provider") == setting.provider
        forms_by_provider[setting.provider] = SettingForm(
            request.POST if bound else None,
            prefix=setting.provider,
            initial={
                "enabled": setting.enabled,
                "threshold": setting.threshold,
                "validity_days": setting.validity_days,
            },
        )
    if request.method == "POST":
        provider = request.POST.get("provider", "")
        form = forms_by_provider.get(provider)
        if form is not None and form.is_valid():
            try:
                services.update_provider_setting(
                    actor=request.actor,  # type: ignore[attr-defined]
                    provider=provider,
                    threshold=form.cleaned_data["threshold"],
                    enabled=form.cleaned_data["enabled"],
                    validity_days=form.cleaned_data["validity_days"],
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(
                    request, _("已保存 %(p)s 的设置") % {"p": Provider(provider).label}
                )
                return redirect("credit:console_settings")
    rows = [
        {
            "setting": s,
            "label": Provider(s.provider).label,
            "configured": selectors.provider_is_configured(s.provider),
            "form": forms_by_provider[s.provider],
        }
        for s in settings_rows
    ]
    has_errors = any(r["form"].errors for r in rows)
    return render_console(
        request, "credit/console_settings.html", {"rows": rows}, status=422 if has_errors else 200
    )


# --- channel log-in ---------------------------------------------------------------------------


def _safe_next(request: HttpRequest, candidate: str) -> str:
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return ""


def channel_start(request: HttpRequest, channel: str) -> HttpResponse:
    """``/login/<channel>/``: off to the provider's authorize page."""
    try:
        url, state = channel_login.begin_channel_login(channel=channel)
    except ProviderDisabled as exc:
        return _domain_page(request, exc)
    request.session[CHANNEL_SESSION] = {
        "channel": channel,
        "state": state,
        "next": _safe_next(request, request.GET.get("next", "")),
    }
    return redirect(url)


def channel_callback(request: HttpRequest, channel: str) -> HttpResponse:
    """Back from the provider with a code: log the bound reader in, or ask to bind once."""
    from xinyue.readers.selectors import reader_by_channel_identity
    from xinyue.readers.services import login_reader

    pending = request.session.pop(CHANNEL_SESSION, None) or {}
    state = request.GET.get("state", "")
    if pending.get("channel") != channel or not state or state != pending.get("state"):
        return _domain_page(request, ChannelLoginFailed(_("登录请求已失效，请重新登录")))
    if request.GET.get("error"):
        return _domain_page(request, ChannelLoginFailed(_("您取消了授权")))
    code = request.GET.get("auth_code") or request.GET.get("code") or ""
    try:
        identity = channel_login.identify_channel_user(channel=channel, code=code)
    except DomainError as exc:
        return _domain_page(request, exc)
    reader = reader_by_channel_identity(provider=identity.provider, external_id=identity.user_id)
    next_url = pending.get("next") or reverse("credit:authorize")
    if reader is not None:
        try:
            login_reader(request, reader)
        except DomainError as exc:
            return _domain_page(request, exc)
        return redirect(next_url)
    request.session[PENDING_IDENTITY_SESSION] = {
        "channel": channel,
        "provider": identity.provider,
        "external_id": identity.user_id,
        "next": next_url,
    }
    return redirect("credit:channel_bind", channel=channel)


class BindForm(forms.Form):
    id_number = forms.CharField(label=gettext_lazy("身份证号"), max_length=20)
    password = forms.CharField(label=gettext_lazy("密码"), widget=forms.PasswordInput)


def channel_bind(request: HttpRequest, channel: str) -> HttpResponse:
    """An identity seen for the first time: the reader proves who they are once (ID number and
    password, or a registration), then the provider identity is bound and they are logged in."""
    from xinyue.readers.selectors import reader_from_request
    from xinyue.readers.services import authenticate_reader, bind_channel_identity, login_reader
    from xinyue.readers.services.identity import client_ip

    pending = request.session.get(PENDING_IDENTITY_SESSION) or {}
    if pending.get("channel") != channel:
        return redirect("credit:channel_start", channel=channel)
    current = reader_from_request(request)
    confirming = request.method == "POST" and "confirm" in request.POST
    form = BindForm(request.POST if request.method == "POST" and not confirming else None)
    if request.method == "POST":
        reader = None
        if current is not None and confirming:
            reader = current
        elif form.is_valid():
            try:
                reader = authenticate_reader(
                    id_number=form.cleaned_data["id_number"],
                    password=form.cleaned_data["password"],
                    ip=client_ip(request),
                )
            except DomainError as exc:
                apply_domain_error(form, exc)
        if reader is not None:
            try:
                bind_channel_identity(
                    reader=reader,
                    channel=request_channel(request),
                    provider=pending["provider"],
                    external_id=pending["external_id"],
                )
                if current is None or current.pk != reader.pk:
                    login_reader(request, reader)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                request.session.pop(PENDING_IDENTITY_SESSION, None)
                messages.success(request, _("已绑定，下次可直接用该渠道登录"))
                return redirect(pending.get("next") or reverse("credit:authorize"))
    register_url = reverse("readers:register")
    here = reverse("credit:channel_bind", args=[channel])
    return render(
        request,
        "credit/channel_bind.html",
        {
            "form": form,
            "channel": channel,
            "current": current,
            "register_url": f"{register_url}?{urlencode({'next': here})}",
        },
        status=422 if form.errors else 200,
    )


@require_POST
def channel_bind_cancel(request: HttpRequest, channel: str) -> HttpResponse:
    request.session.pop(PENDING_IDENTITY_SESSION, None)
    return redirect("/")
