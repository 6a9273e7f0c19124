"""The sandbox gateway's own state: a stand-in for Alipay/Zhima's side, in tables of its own.

These tables belong to the fake provider, not to the platform: they are named ``sandbox_zhima_*``
and nothing of the platform reads them. The sandbox may know a test user's score (it plays the
provider); the platform's tables never store one.
"""

from __future__ import annotations

from django.db import models


class SandboxUser(models.Model):
    """A test Alipay user: an id like ``2088…``, a login, a Zhima score and injected faults."""

    user_id = models.CharField(max_length=32, unique=True)
    login = models.CharField(max_length=64, unique=True)
    score = models.PositiveSmallIntegerField(default=600)
    # A Django password hash, or "" for a free test user. A user bound to a reader needs one to
    # log in (an Alipay account has a password too); free users are listed on the log-in page.
    password = models.CharField(max_length=128, blank=True, default="")
    # Faults that follow this user: "timeout" (first order create), "duplicate_notify",
    # "failed_deduction" (first deduction), "no_notify", "unavailable".
    faults = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sandbox_zhima_user"
        ordering = ["id"]

    def __str__(self) -> str:
        return self.login

    def has_fault(self, kind: str) -> bool:
        return kind in (self.faults or [])


class SandboxFault(models.Model):
    """A fault injected through the control endpoint, for ``remaining`` calls (null = until cleared)."""

    class Kind(models.TextChoices):
        TIMEOUT = "timeout"  # process the call, then answer too late
        UNAVAILABLE = "unavailable"  # answer 20000 without processing
        DUPLICATE_NOTIFY = "duplicate_notify"  # send each notification twice
        NO_NOTIFY = "no_notify"  # send no notification (the redirect + query fallback)
        FAILED_DEDUCTION = "failed_deduction"  # a DAMAGE deduction fails (PAY_FAILED)
        BAD_SIGNATURE = "bad_signature"  # sign answers with a wrong key

    kind = models.CharField(max_length=20, choices=Kind.choices)
    method = models.CharField(max_length=80, blank=True, help_text="blank = every method")
    remaining = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "sandbox_zhima_fault"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.method or '*'} ({self.remaining})"


class SandboxAuthorization(models.Model):
    """An admittance authorization opened by a merchant (``zhima.credit.admittance.*``)."""

    biz_no = models.CharField(max_length=40, unique=True)
    app_id = models.CharField(max_length=32)
    transaction_id = models.CharField(max_length=64)
    admittance_score = models.PositiveSmallIntegerField()
    user = models.ForeignKey(SandboxUser, null=True, blank=True, on_delete=models.SET_NULL)
    state = models.CharField(max_length=8, default="INIT")  # INIT | DONE
    score = models.PositiveSmallIntegerField(null=True, blank=True)  # the test score used
    is_admittance = models.CharField(max_length=1, blank=True)  # Y | N
    notify_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sandbox_zhima_authorization"
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "transaction_id"], name="sandbox_authorization_txn"
            )
        ]

    def __str__(self) -> str:
        return f"{self.biz_no} {self.state}"


class SandboxOrder(models.Model):
    """A 信用借还 rent order (``zhima.merchant.order.rent.*``), keyed by the merchant's out_order_no."""

    order_no = models.CharField(max_length=40, unique=True)
    app_id = models.CharField(max_length=32)
    out_order_no = models.CharField(max_length=64)
    user = models.ForeignKey(SandboxUser, null=True, blank=True, on_delete=models.SET_NULL)
    goods_name = models.CharField(max_length=40)
    deposit_fen = models.PositiveIntegerField()
    borrow_time = models.DateTimeField()
    expiry_time = models.DateTimeField()
    admit_state = models.CharField(max_length=1, blank=True)  # Y | N | "" (not confirmed)
    use_state = models.CharField(max_length=8, blank=True)  # borrow | restore | cancel
    pay_amount_type = models.CharField(max_length=8, blank=True)  # RENT | DAMAGE
    pay_amount_fen = models.PositiveIntegerField(default=0)
    pay_status = models.CharField(max_length=16, blank=True)
    pay_time = models.DateTimeField(null=True, blank=True)
    restore_time = models.DateTimeField(null=True, blank=True)
    restore_shop_name = models.CharField(max_length=60, blank=True)
    fund_order_no = models.CharField(max_length=40, blank=True)
    deduction_attempts = models.PositiveIntegerField(default=0)
    notify_url = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "sandbox_zhima_order"
        constraints = [
            models.UniqueConstraint(fields=["app_id", "out_order_no"], name="sandbox_order_out_no")
        ]

    def __str__(self) -> str:
        return f"{self.order_no} {self.use_state}"


class SandboxOAuthCode(models.Model):
    """A one-time ``auth_code`` handed to the merchant's redirect URI after the login page."""

    code = models.CharField(max_length=64, unique=True)
    app_id = models.CharField(max_length=32)
    user = models.ForeignKey(SandboxUser, on_delete=models.CASCADE)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sandbox_zhima_oauth_code"

    def __str__(self) -> str:
        return self.code[:8]


class SandboxNotification(models.Model):
    """A signed async notification to a merchant, retried until it answers ``success``."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"

    notify_id = models.CharField(max_length=64, db_index=True)
    url = models.CharField(max_length=500)
    params = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "sandbox_zhima_notification"
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.notify_id} {self.status}"
