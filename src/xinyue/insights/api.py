"""API operations of the insights app (mounted under /api/v1/): the events intake."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import BaseModel, Field

from xinyue.core.schemas import ErrorOut
from xinyue.insights import services

router = Router(tags=["events"])

ChannelName = Literal["alipay", "wechat", "pc", "desk", "kiosk", "api"]


class EventIn(BaseModel):
    """A plain pydantic model, not a ninja ``Schema``: ninja's ORM-attribute resolver costs
    ~50 µs per item, which a 1,000-item batch feels."""

    type: Literal["page_view", "search", "click"]
    at: dt.datetime
    channel: ChannelName
    path: str = Field("", max_length=300)
    query: str = Field("", max_length=1000, description="searches: the term as typed")
    title_id: int | None = Field(None, ge=1, description="clicks: the title whose page was opened")
    result_count: int | None = Field(None, ge=0, description="searches: how many titles it found")


class EventsAccepted(Schema):
    accepted: int


@router.post(
    "/events",
    response={202: EventsAccepted, 403: ErrorOut, 422: ErrorOut},
    summary="Report usage events in a batch (≤ 1000)",
    description=(
        "Page views, searches and title clicks seen by a channel app or reader client, for the "
        "monthly report. The batch is validated whole (an error names `<index>.<field>`) and "
        "written at once. `at` must carry a UTC offset and lie within the last 7 days."
    ),
)
def post_events(request: HttpRequest, events: list[EventIn]) -> Status:
    result = services.ingest_events(actor=request.auth, events=[e.model_dump() for e in events])
    return Status(202, {"accepted": result.accepted})
