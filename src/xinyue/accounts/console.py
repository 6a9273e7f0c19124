"""Shared plumbing for the console pages (operator and library): who is acting, rendering, errors."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from xinyue.accounts.middleware import request_actor
from xinyue.core.errors import DomainError, InvalidInput
from xinyue.core.permissions import Action, require
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import operator_library


def console_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page for platform workers only (operator, staff, supplier); ``request.actor`` is theirs
    (set by ``accounts.middleware``)."""

    @login_required
    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            require(request_actor(request), Action.USE_CONSOLE)
            return view(request, *args, **kwargs)
        except DomainError as exc:
            if exc.http_status == 403:
                raise DjangoPermissionDenied(exc.message) from exc
            raise

    return wrapper


def render_console(
    request: HttpRequest, template: str, context: dict[str, Any] | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    base = {"actor": request.actor, "actor_library": getattr(user, "library", None)}  # type: ignore[attr-defined]
    return render(request, template, {**base, **(context or {})}, status=status)


def apply_domain_error(form: Any, exc: DomainError) -> None:
    """Show a service refusal on the form, on the named fields where it names them."""
    if isinstance(exc, InvalidInput):
        for field, message in exc.fields.items():
            form.add_error(field if field in form.fields else None, message)
    else:
        form.add_error(None, exc.message)


def webhook_console(
    request: HttpRequest,
    *,
    form_class: Any,
    subscribe: Callable[..., Any],
    template: str,
    context: dict[str, Any],
) -> HttpResponse:
    """The webhook page of a library or a supplier: a posted form subscribes through
    ``subscribe(url=, event_types=)`` (the owner's service), the signing secret is shown this once,
    and ``context`` brings the owner's subscriptions and latest deliveries (querysets, read after
    the subscription)."""
    form = form_class(request.POST or None)
    new_secret = None
    if request.method == "POST" and form.is_valid():
        try:
            subscription = subscribe(
                url=form.cleaned_data["url"], event_types=form.cleaned_data["event_types"]
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            new_secret = subscription.secret
            form = form_class()
    return render_console(
        request,
        template,
        {**context, "form": form, "new_secret": new_secret},
        status=422 if form.errors else 200,
    )


def working_library(
    request: HttpRequest, actor: Any, action: Action = Action.WORK_AT_LIBRARY
) -> Library:
    """The library a desk page acts for: staff work for their own; the operator picks one
    (``?library=`` or a posted ``library``), the province's by default. ``action`` must be
    allowed there."""
    require(actor, action)
    if actor.library_id is not None:
        library = Library.objects.get(pk=actor.library_id)
    else:
        code = request.GET.get("library") or request.POST.get("library")
        library = Library.objects.filter(code=code).first() if code else operator_library()
        if library is None:
            raise Http404
    require(actor, action, library_id=library.pk)
    return library
