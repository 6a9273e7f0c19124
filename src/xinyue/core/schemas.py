"""Schemas shared by every router: the error shape."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    code: str
    message: str
    detail: dict[str, Any] = {}
