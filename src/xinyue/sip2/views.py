"""Console pages: a library admin's self-service kiosk accounts (SIP2)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.core.errors import DomainError
from xinyue.libraries import selectors as library_selectors
from xinyue.sip2 import selectors, services
from xinyue.sip2.forms import KioskChangeForm, KioskCreateForm


@console_view
def console_kiosks(request: HttpRequest, code: str) -> HttpResponse:
    library = library_selectors.library_get(code=code)
    kiosks = selectors.library_kiosks(actor=request.actor, library=library)
    form = KioskCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.create_kiosk_account(actor=request.actor, library=library, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("sip2:console_kiosks", code=library.code)
    return render_console(
        request,
        "sip2/console_kiosks.html",
        {"library": library, "kiosks": kiosks, "form": form},
        status=422 if form.errors else 200,
    )


@console_view
def console_kiosk(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    library = library_selectors.library_get(code=code)
    account = selectors.kiosk_get(actor=request.actor, library=library, pk=pk)
    if account is None:
        raise Http404
    initial = {
        "charset": account.charset,
        "location_code": account.location_code,
        "error_detection": account.error_detection,
        "is_active": account.is_active,
    }
    form = KioskChangeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.change_kiosk_account(actor=request.actor, account=account, **form.cleaned_data)
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            return redirect("sip2:console_kiosks", code=library.code)
    return render_console(
        request,
        "sip2/console_kiosk.html",
        {"library": library, "account": account, "form": form},
        status=422 if form.errors else 200,
    )
