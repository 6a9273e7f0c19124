"""The wait-list actions of the title page (the catalog's page links here by URL name)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.core.errors import DomainError
from xinyue.orders import services
from xinyue.readers.selectors import reader_from_request


@require_POST
def wait_list(request: HttpRequest, title_id: int, action: str) -> HttpResponse:
    """``join`` or ``leave`` the title's wait-list, then back to the title page."""
    back = reverse("catalog:title", args=[title_id])
    reader = reader_from_request(request)
    if reader is None:
        return redirect_to_login(back, reverse("readers:login"))
    actor = request.actor  # type: ignore[attr-defined]
    try:
        if action == "join":
            entry = services.join_wait_list(actor=actor, reader=reader, title_id=title_id)
            messages.success(
                request,
                _("已加入等候名单（第 %(position)s 位），到货后会通知您。")
                % {"position": services.wait_list_position(entry) or 1},
            )
        elif action == "leave":
            services.leave_wait_list(actor=actor, reader=reader, title_id=title_id)
            messages.info(request, _("已退出等候名单。"))
        else:
            return redirect(back)
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)
