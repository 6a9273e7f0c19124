"""Refusals of the card services (issuing, linking, suspending, reviews), each with a stable code."""

from __future__ import annotations

from typing import ClassVar

from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, DomainError, InvalidInput


class LibraryNotAccepting(Conflict):
    code = "library_inactive"
    default_message = _("该成员馆暂未开通信阅服务")


class ReaderInactive(Conflict):
    code = "reader_inactive"
    default_message = _("读者账户已停用")


class CardAlreadyHeld(Conflict):
    code = "card_already_held"
    default_message = _("您在该馆已有读者证")


class CardNumberTaken(Conflict):
    code = "card_number_taken"
    default_message = _("该读者证已被其他账户绑定，请到馆咨询")


class NotAdmitted(DomainError):
    """No admittance: the detail carries the reason and the ways forward (never a dead end)."""

    code = "not_admitted"
    http_status = 409
    default_message = _("暂不能办理信用免押读者证")


class CardStateConflict(Conflict):
    code = "card_state"
    default_message = _("读者证当前状态不允许此操作")


class RequestNotPending(Conflict):
    code = "not_pending"
    default_message = _("该申请已处理")


class AlreadyAdmitted(Conflict):
    code = "already_admitted"
    default_message = _("您已通过信用评估，可直接办理信用免押读者证")


class LinkCheckFailed(InvalidInput):
    """The library's own system says the card number or its password is wrong."""

    code = "link_check_failed"
    default_message = _("读者证号或密码不正确")


class LinkCheckUnavailable(DomainError):
    code = "link_check_unavailable"
    http_status = 503
    default_message = _("成员馆系统暂时无法核验，请稍后再试或到馆办理")


class TooManyLinkAttempts(DomainError):
    code = "too_many_attempts"
    http_status = 429
    default_message = _("核验失败次数过多，请一小时后再试")
    retry_after: ClassVar[int] = 3600
