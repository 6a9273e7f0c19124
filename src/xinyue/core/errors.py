"""Domain errors: a stable machine ``code``, a human message, an HTTP status, details.

Every refusal of a business rule is a ``DomainError`` subclass declared in its app's
``errors.py``. The API renders them as ``{"code", "message", "detail"}``; pages show the message;
SIP2 maps the code to a screen message. One vocabulary for every interface.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext


class DomainError(Exception):
    """A business rule refused the action. Nothing was changed."""

    code: ClassVar[str] = "domain_error"
    http_status: ClassVar[int] = 409
    default_message: ClassVar[str] = _("操作被拒绝")

    def __init__(self, message: str | None = None, **detail: Any) -> None:
        self.message = str(message or self.default_message)
        self.detail = detail
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class NotFound(DomainError):
    code = "not_found"
    http_status = 404
    default_message = _("找不到该对象")


class PermissionDenied(DomainError):
    code = "forbidden"
    http_status = 403
    default_message = _("没有权限执行此操作")


class Conflict(DomainError):
    code = "conflict"
    http_status = 409


class InvalidInput(DomainError):
    """Bad input, naming each field: ``InvalidInput(fields={"isbn": "校验位错误"})``."""

    code = "invalid"
    http_status = 422
    default_message = _("输入有误")

    def __init__(
        self, message: str | None = None, *, fields: dict[str, str], **detail: Any
    ) -> None:
        super().__init__(
            message
            or pgettext("list separator", "；").join(f"{k}: {v}" for k, v in fields.items()),
            fields=fields,
            **detail,
        )
        self.fields = fields


class LoginThrottled(DomainError):
    """Too many failed log-ins for an account or from an address (``xinyue.core.login_throttle``)."""

    code = "login_throttled"
    http_status = 429
    default_message = _("登录失败次数过多，请稍后再试")
