"""Console page: what readers search for, and the searches that found nothing."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from xinyue.accounts.console import console_view, render_console
from xinyue.core import clock
from xinyue.core.permissions import require_operator
from xinyue.insights import selectors

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


@console_view
def console_search_terms(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
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
        },
        status=422 if form.errors else 200,
    )
