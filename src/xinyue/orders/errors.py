"""Refusals of platform ordering, each with a stable code (API ``code``, pages, tests)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, DomainError, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"
    default_message = _("找不到该订单")


class NotAdmitted(DomainError):
    code = "not_admitted"
    http_status = 409  # as for cards: a precondition, not a permission
    default_message = _("信用准入已失效，请重新完成信用授权后再下单")


class NoActiveService(DomainError):
    code = "service_not_active"
    http_status = 409
    default_message = _("请先办理信用读者证或开通信阅服务")


class TooManyVolumes(DomainError):
    code = "too_many_volumes"
    http_status = 422
    default_message = _("每单册数超过上限")


class QuotaExceeded(Conflict):
    code = "quota_exceeded"
    default_message = _("超出信阅借书册数上限")


class TitleUnavailable(Conflict):
    code = "title_unavailable"
    default_message = _("该书目前无货或已下架")


class DuplicateTitle(Conflict):
    code = "duplicate_title"
    default_message = _("您已借阅或近期已订购该书")


class BudgetExhausted(Conflict):
    code = "budget_exhausted"
    default_message = _("本期购书经费已用完，请下期再来")


class PickupDisabled(DomainError):
    code = "pickup_disabled"
    http_status = 422
    default_message = _("暂不支持到馆自取")


class OrderState(Conflict):
    code = "order_state"
    default_message = _("订单当前状态不允许此操作")


class IdempotencyMismatch(Conflict):
    code = "idempotency_mismatch"
    default_message = _("同一请求编号已用于内容不同的订单")


class TitleInStock(Conflict):
    code = "title_in_stock"
    default_message = _("该书有货，可直接下单，无需等候")
