"""Console page: what readers search for, and the searches that found nothing."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _

from xinyue.accounts.console import console_view, render_console
from xinyue.core import clock
from xinyue.core.errors import DomainError
from xinyue.core.permissions import require_operator
from xinyue.insights import selectors, services

DEFAULT_DAYS = 30


class PeriodForm(forms.Form):
    start = forms.DateField(label=_("开始日期"), required=False)
    end = forms.DateField(label=_("结束日期（含）"), required=False)

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("结束日期不能早于开始日期"))
        return data


def _moderate(request: HttpRequest) -> str | None:
    """The operator's hot-search moderation (POST); the error message, or None."""
    action = request.POST.get("action", "")
    try:
        if action == "hide":
            services.hide_search_term(actor=request.actor, term=request.POST.get("term", ""))
        elif action == "block":
            services.block_search_word(actor=request.actor, word=request.POST.get("word", ""))
        elif action == "remove":
            rule_id = request.POST.get("rule", "")
            if rule_id.isdigit():
                services.remove_search_term_rule(actor=request.actor, rule_id=int(rule_id))
    except DomainError as exc:
        return "; ".join(str(m) for m in exc.detail.get("fields", {}).values()) or exc.message
    return None


@console_view
def console_search_terms(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    moderation_error = None
    if request.method == "POST":
        moderation_error = _moderate(request)
        if moderation_error is None:
            return redirect(request.get_full_path())
    form = PeriodForm(request.GET or None)
    today = clock.today()
    start_day, end_day = today - dt.timedelta(days=DEFAULT_DAYS - 1), today
    if form.is_bound and form.is_valid():
        start_day = form.cleaned_data.get("start") or start_day
        end_day = form.cleaned_data.get("end") or end_day
    start = clock.start_of_day(start_day)
    end = clock.start_of_day(end_day + dt.timedelta(days=1))
    actor = request.actor
    return render_console(
        request,
        "insights/console_search_terms.html",
        {
            "form": form,
            "start_day": start_day,
            "end_day": end_day,
            "totals": selectors.search_totals(actor=actor, start=start, end=end),
            "top_terms": selectors.search_terms(actor=actor, start=start, end=end),
            "zero_terms": selectors.search_terms(actor=actor, start=start, end=end, zero_only=True),
            "rules": selectors.search_term_rules(actor=actor),
            "public_terms": selectors.popular_search_terms(),
            "moderation_error": moderation_error,
        },
        status=422 if form.errors or moderation_error else 200,
    )
