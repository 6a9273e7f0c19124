"""Reads of circulation: a reader's loans, titles they have on loan."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate

from xinyue.circulation.models import Loan


def loans_of_reader(*, reader_id: int, open_only: bool = False) -> QuerySet[Loan]:
    queryset = Loan.objects.filter(reader_id=reader_id).select_related(
        "item__title", "library", "order_line__order"
    )
    if open_only:
        queryset = queryset.filter(status=Loan.Status.ON_LOAN)
    return queryset


def loans_per_title_and_day(*, since: dt.datetime) -> QuerySet:
    """(title id, local day, loans started) since ``since``: for the titles' popularity."""
    return (
        Loan.objects.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values_list("item__title_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )


def titles_on_loan(*, reader_id: int) -> set[int]:
    return set(
        Loan.objects.filter(reader_id=reader_id, status=Loan.Status.ON_LOAN).values_list(
            "item__title_id", flat=True
        )
    )


def open_platform_loans(*, reader_id: int) -> int:
    return Loan.objects.filter(
        reader_id=reader_id, program="platform", status=Loan.Status.ON_LOAN
    ).count()
