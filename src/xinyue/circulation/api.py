"""API operations of the circulation app (mounted under /api/v1/): the reader's loans."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema

from xinyue.circulation.selectors import loans_of_reader
from xinyue.core.schemas import ErrorOut
from xinyue.readers.errors import NotAReader
from xinyue.readers.selectors import reader_from_request

router = Router(tags=["circulation"])


class LoanOut(Schema):
    id: int
    program: str = Field(description="platform | local")
    status: str = Field(description="on_loan | returned | lost | settled")
    title_id: int
    title: str
    barcode: str
    library_code: str
    order_number: str | None
    started_at: dt.datetime
    due_on: dt.date
    is_overdue: bool
    renewals: int
    returned_at: dt.datetime | None


class LoanListOut(Schema):
    count: int
    items: list[LoanOut]


@router.get(
    "/loans",
    response={200: LoanListOut, 401: ErrorOut, 403: ErrorOut},
    summary="The reader's loans (open first, then the history), with due dates",
)
def my_loans(request: HttpRequest) -> dict[str, Any]:
    reader = reader_from_request(request)
    if reader is None:
        raise NotAReader()
    loans = sorted(
        loans_of_reader(reader_id=reader.pk)[:200], key=lambda loan: loan.status != "on_loan"
    )
    return {
        "count": len(loans),
        "items": [
            {
                "id": loan.pk,
                "program": loan.program,
                "status": loan.status,
                "title_id": loan.item.title_id,
                "title": loan.item.title.title,
                "barcode": loan.item.barcode,
                "library_code": loan.library.code,
                "order_number": loan.order_line.order.number if loan.order_line_id else None,
                "started_at": loan.started_at,
                "due_on": loan.due_on,
                "is_overdue": loan.is_overdue,
                "renewals": loan.renewals,
                "returned_at": loan.returned_at,
            }
            for loan in loans
        ],
    }
