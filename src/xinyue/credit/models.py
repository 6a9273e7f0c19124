"""Credit: provider settings, readers' authorizations and decisions, the notification inbox and
credit orders. A decision is admitted/refused at a threshold — never a score (DESIGN §4, §6).

The sandbox gateway's own tables (``sandbox_zhima_*``) are declared in
``xinyue.credit.sandbox.models`` and imported here only so that Django registers them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, EventRow
from xinyue.credit.sandbox.models import (  # noqa: F401  (registered with the credit app)
    SandboxAuthorization,
    SandboxFault,
    SandboxNotification,
    SandboxOAuthCode,
    SandboxOrder,
    SandboxUser,
)


class Provider(models.TextChoices):
    SANDBOX = "sandbox", _("信用沙箱（芝麻协议）")
    ZHIMA = "zhima", _("芝麻信用")
    WECHAT_PAYSCORE = "wechat_payscore", _("微信支付分")


class ProviderSetting(BaseModel):
    """The platform's rule for one provider: on/off, admittance threshold, validity of a decision.

    One row per provider for the whole province; changed only by an operator, audited. A missing
    row means the defaults of ``xinyue.credit.selectors.DEFAULTS``.
    """

    provider = models.CharField(_("信用服务"), max_length=20, choices=Provider.choices, unique=True)
    enabled = models.BooleanField(_("启用"), default=True)
    threshold = models.PositiveSmallIntegerField(_("准入分"))
    validity_days = models.PositiveSmallIntegerField(_("准入有效天数"), default=30)

    class Meta:
        ordering = ["provider"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(validity_days__gte=1), name="provider_setting_validity_positive"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider} ≥ {self.threshold}"


class CreditAuthorization(BaseModel):
    """A reader's credit check at one provider and its outcome.

    ``request_no`` is our idempotency key at the provider (its ``transaction_id``), saved before
    the first call. The decision is stored with the threshold it was made at, the time, how we
    learned it, the consent version — never a score.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("待确认")
        ADMITTED = "admitted", _("已准入")
        REFUSED = "refused", _("未准入")
        FAILED = "failed", _("未能发起")

    class Via(models.TextChoices):
        NOTIFICATION = "notification", _("异步通知")
        QUERY = "query", _("主动查询")
        RECHECK = "recheck", _("复核")

    reader = models.ForeignKey(
        "readers.Reader", on_delete=models.PROTECT, related_name="credit_authorizations"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    request_no = models.CharField(max_length=40, unique=True)
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    threshold = models.PositiveSmallIntegerField()
    consent_version = models.PositiveIntegerField(null=True, blank=True)
    provider_ref = models.CharField(max_length=64, blank=True)
    provider_user_id = models.CharField(max_length=64, blank=True)
    confirm_url = models.TextField(blank=True)
    channel = models.CharField(max_length=12, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_via = models.CharField(max_length=12, choices=Via.choices, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    failure_code = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["reader", "-decided_at"], name="credit_auth_reader_decided")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "admitted", "refused", "failed"]),
                name="credit_authorization_status_valid",
            ),
            models.CheckConstraint(
                condition=~models.Q(status__in=["admitted", "refused"])
                | models.Q(decided_at__isnull=False),
                name="credit_decision_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.request_no} {self.status}"

    @property
    def is_decided(self) -> bool:
        return self.status in (self.Status.ADMITTED, self.Status.REFUSED)


class AuthorizationEvent(EventRow):
    authorization = models.ForeignKey(
        CreditAuthorization, on_delete=models.CASCADE, related_name="events"
    )


class ProviderNotification(models.Model):
    """The inbox: every verified provider notification, once per provider notify id.

    Written only after the signature (and app id, time window, AEAD tag) checked out; the unique
    (provider, notify_id) makes a duplicate or replay a no-op. ``payload`` holds the verified
    fields (no signature, no personal data: provider ids and states only).
    """

    provider = models.CharField(max_length=20, choices=Provider.choices)
    notify_id = models.CharField(max_length=80)
    kind = models.CharField(max_length=12)
    reference = models.CharField(max_length=64, blank=True, db_index=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "notify_id"], name="provider_notification_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.provider}:{self.notify_id}"


class CreditOrder(BaseModel):
    """A credit order at the provider backing a loan (信用借还): deposit-free up to ``deposit_fen``.

    ``out_order_no`` is the key at the provider; ``reference`` the caller's key (e.g. an order
    line), both unique so that a retried start never opens a second one. A provider call is
    recorded as ``pending_op`` first and cleared when its outcome is known, so a worker can
    finish it after a crash or timeout (outbox-friendly).
    """

    class State(models.TextChoices):
        NEW = "new", _("待提交")
        PENDING_CONFIRM = "pending_confirm", _("待用户确认")
        REJECTED = "rejected", _("未准入")
        BORROWED = "borrowed", _("借用中")
        OVERDUE = "overdue", _("已逾期")
        RETURNED = "returned", _("已归还")
        CHARGING = "charging", _("扣款中")
        CHARGED = "charged", _("已赔付")
        CHARGE_FAILED = "charge_failed", _("扣款失败")
        CANCELLED = "cancelled", _("已撤销")

    class Op(models.TextChoices):
        NONE = "", _("无")
        START = "start", _("开单")
        EXTEND = "extend", _("续期")
        COMPLETE = "complete", _("完结")
        CANCEL = "cancel", _("撤销")

    out_order_no = models.CharField(max_length=40, unique=True)
    reference = models.CharField(max_length=80, unique=True)
    reader = models.ForeignKey("readers.Reader", on_delete=models.PROTECT, related_name="+")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    authorization = models.ForeignKey(
        CreditAuthorization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    goods_name = models.CharField(max_length=40)
    deposit_fen = models.PositiveIntegerField()
    borrowed_at = models.DateTimeField()
    due_at = models.DateTimeField()
    state = models.CharField(max_length=16, choices=State.choices, default=State.NEW)
    provider_order_no = models.CharField(max_length=64, blank=True)
    confirm_url = models.TextField(blank=True)
    charge_fen = models.PositiveIntegerField(default=0)
    charged_fen = models.PositiveIntegerField(default=0)
    complete_reason = models.CharField(max_length=8, blank=True)
    returned_at = models.DateTimeField(null=True, blank=True)
    pending_op = models.CharField(max_length=10, choices=Op.choices, blank=True, db_index=True)
    pending_args = models.JSONField(default=dict, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(charged_fen__lte=models.F("deposit_fen")),
                name="credit_order_charge_within_deposit",
            )
        ]

    def __str__(self) -> str:
        return f"{self.out_order_no} {self.state}"

    @property
    def is_open(self) -> bool:
        return self.state in (
            self.State.NEW,
            self.State.PENDING_CONFIRM,
            self.State.BORROWED,
            self.State.OVERDUE,
            self.State.CHARGING,
            self.State.CHARGE_FAILED,
        )


class CreditOrderEvent(EventRow):
    order = models.ForeignKey(CreditOrder, on_delete=models.CASCADE, related_name="events")
