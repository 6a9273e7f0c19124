"""Domain errors of the credit app (stable codes for every interface)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, DomainError, NotFound


class ConsentRequired(DomainError):
    """The reader has not given (or withdrew) the consent this provider call needs."""

    code = "consent_required"
    http_status = 409
    default_message = _("请先同意信用评估授权，才能向信用服务机构查询")


class ProviderDisabled(DomainError):
    code = "provider_disabled"
    http_status = 409
    default_message = _("该信用服务未开通")


class ProviderFailed(DomainError):
    """The provider could not be reached or answered with an error; nothing was decided."""

    code = "provider_error"
    http_status = 502
    default_message = _("信用服务暂时无法访问，请稍后再试")


class NotAdmitted(Conflict):
    code = "not_admitted"
    default_message = _("未通过信用评估，不能使用信用免押服务")


class AuthorizationNotFound(NotFound):
    default_message = _("找不到该信用授权")


class CreditOrderNotFound(NotFound):
    default_message = _("找不到该信用订单")


class CreditOrderState(Conflict):
    code = "credit_order_state"
    default_message = _("信用订单当前状态不允许此操作")


class ChannelLoginFailed(DomainError):
    code = "channel_login_failed"
    http_status = 400
    default_message = _("渠道登录未完成，请重试")
