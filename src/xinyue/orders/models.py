"""Platform orders (信阅借书): orders and their lines, shipments, the operator's rules, the budget
ledger, and the counters that make ordering safe under concurrency.

Counters that ordering changes are plain columns moved by conditional ``UPDATE``s (stock in the
catalog's ``Offer``, ``ReaderQuota.open_volumes`` here, ``BudgetSlot.available_fen`` here), each
``CHECK``-constrained so that even a wrong code path cannot drive them below zero. The ledger
(``LedgerEntry``) is the audit trail of the budget to the fen; the slots are its running totals.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinyue.core.actors import Channel
from xinyue.core.models import BaseModel, EventRow
from xinyue.readers.vault import SealedTextField


class DeliveryKind(models.TextChoices):
    HOME = "home", _("快递到家")
    PICKUP = "pickup", _("到馆自取")


class PostagePayer(models.TextChoices):
    PLATFORM = "platform", _("平台承担")
    READER = "reader", _("读者承担（到付）")


class PlatformRules(BaseModel):
    """The operator's rules for platform orders: one row (``pk=1``), defaults on the fields."""

    max_volumes_per_order = models.PositiveSmallIntegerField(_("每单最多册数"), default=3)
    platform_quota = models.PositiveSmallIntegerField(_("读者在借/在途册数上限"), default=5)
    loan_days = models.PositiveSmallIntegerField(_("借期（天）"), default=30)
    duplicate_window_days = models.PositiveSmallIntegerField(_("重复下单检查（天）"), default=90)
    home_postage_payer = models.CharField(
        _("快递邮费承担方"), max_length=10, choices=PostagePayer.choices, default="platform"
    )
    home_postage_fen = models.PositiveIntegerField(_("快递邮费（分）"), default=0)
    pickup_enabled = models.BooleanField(_("允许到馆自取"), default=True)
    pickup_postage_payer = models.CharField(
        _("自取邮费承担方"), max_length=10, choices=PostagePayer.choices, default="platform"
    )
    pickup_postage_fen = models.PositiveIntegerField(_("自取邮费（分）"), default=0)
    confirm_minutes = models.PositiveSmallIntegerField(_("信用确认时限（分钟）"), default=30)
    credit_confirm_by_reader = models.BooleanField(_("读者在信用服务页确认"), default=False)
    budget_slots = models.PositiveSmallIntegerField(_("预算分片数"), default=8)
    waitlist_window_hours = models.PositiveSmallIntegerField(
        _("等候名单下单时限（小时）"), default=48
    )

    class Meta:
        verbose_name = _("信阅借书规则")
        constraints = [
            models.CheckConstraint(condition=Q(pk=1), name="platform_rules_single_row"),
            models.CheckConstraint(
                condition=Q(max_volumes_per_order__gte=1, platform_quota__gte=1, loan_days__gte=1)
                & Q(budget_slots__gte=1, budget_slots__lte=64),
                name="platform_rules_sane",
            ),
        ]


class BudgetPeriod(BaseModel):
    """A budget period [starts_on, ends_on) in Asia/Shanghai (e.g. a year or a quarter)."""

    name = models.CharField(_("名称"), max_length=40, unique=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期（不含）"))

    class Meta:
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")), name="budget_period_not_empty"
            )
        ]

    def __str__(self) -> str:
        return self.name


class BudgetSlot(models.Model):
    """One of N shards of a period's budget: concurrent orders commit against different rows,
    so the budget does not serialise every order on one hot row (docs/decisions.md)."""

    period = models.ForeignKey(BudgetPeriod, on_delete=models.CASCADE, related_name="slots")
    slot = models.PositiveSmallIntegerField()
    available_fen = models.BigIntegerField(default=0)
    committed_fen = models.BigIntegerField(default=0)
    spent_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["period", "slot"]
        constraints = [
            models.UniqueConstraint(fields=["period", "slot"], name="budget_slot_per_period"),
            models.CheckConstraint(
                condition=Q(available_fen__gte=0, committed_fen__gte=0, spent_fen__gte=0),
                name="budget_slot_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period_id}/{self.slot}: {self.available_fen}"


class LedgerEntry(models.Model):
    """One movement of budget money, in fen (always positive; the kind says which way)."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("预算注入")
        COMMITMENT = "commitment", _("下单占用")
        RELEASE = "release", _("释放")
        SPEND = "spend", _("支出")

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    period = models.ForeignKey(BudgetPeriod, on_delete=models.PROTECT, related_name="entries")
    slot = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=12, choices=Kind.choices)
    amount_fen = models.BigIntegerField()
    order = models.ForeignKey(
        "orders.Order", null=True, blank=True, on_delete=models.PROTECT, related_name="ledger"
    )
    line = models.ForeignKey(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_ref = models.CharField(max_length=40)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "ledger entries"
        constraints = [
            models.CheckConstraint(condition=Q(amount_fen__gt=0), name="ledger_amount_positive")
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_fen}"


class ReaderQuota(models.Model):
    """Open platform volumes of a reader (lines of live orders + open platform loans), kept as a
    counter so the quota is enforced by one conditional UPDATE. Separate from any local quota."""

    reader = models.OneToOneField(
        "readers.Reader", on_delete=models.CASCADE, related_name="platform_quota"
    )
    open_volumes = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(open_volumes__gte=0), name="reader_quota_not_negative"
            )
        ]

    def __str__(self) -> str:
        return f"reader {self.reader_id}: {self.open_volumes}"


class Order(BaseModel):
    """A platform order: new titles bought by the operator, delivered to a reader."""

    class Status(models.TextChoices):
        PLACED = "placed", _("已下单")
        CONFIRMED = "confirmed", _("已确认")
        SHIPPED = "shipped", _("已发货")
        DELIVERED = "delivered", _("已送达")
        CANCELLED = "cancelled", _("已取消")
        REJECTED = "rejected", _("已拒绝")

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    number = models.CharField(_("订单号"), max_length=24, unique=True)
    reader = models.ForeignKey("readers.Reader", on_delete=models.PROTECT, related_name="orders")
    channel = models.CharField(
        _("渠道"), max_length=12, choices=[(c.value, c.value) for c in Channel]
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PLACED, db_index=True
    )
    idempotency_key = models.CharField(max_length=200, blank=True)
    delivery_kind = models.CharField(_("配送方式"), max_length=8, choices=DeliveryKind.choices)
    district_code = models.CharField(_("区县代码"), max_length=6, blank=True)
    address_detail_ct = SealedTextField()
    address_recipient_ct = SealedTextField()
    address_phone_ct = SealedTextField()
    pickup_library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    postage_payer = models.CharField(_("邮费承担"), max_length=10, choices=PostagePayer.choices)
    postage_fen = models.PositiveIntegerField(_("邮费（分）"), default=0)
    list_price_total_fen = models.PositiveIntegerField(_("码洋（分）"))
    budget_period = models.ForeignKey(BudgetPeriod, on_delete=models.PROTECT, related_name="+")
    loan_days = models.PositiveSmallIntegerField()
    credit_reference = models.CharField(max_length=80, blank=True)
    confirm_url = models.TextField(blank=True)
    confirm_expires_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=200, blank=True)
    placed_at = models.DateTimeField()
    confirmed_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True)
    received_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="order_idempotency_key_per_reader",
            ),
            models.CheckConstraint(
                condition=Q(delivery_kind="pickup", pickup_library__isnull=False)
                | Q(delivery_kind="home", district_code__startswith="33"),
                name="order_delivery_complete",
            ),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_live(self) -> bool:
        return self.status in (self.Status.PLACED, self.Status.CONFIRMED, self.Status.SHIPPED)


class Shipment(BaseModel):
    """A parcel of some lines of an order (orders may ship in parts)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    supplier = models.ForeignKey("suppliers.Supplier", on_delete=models.PROTECT, related_name="+")
    carrier = models.CharField(_("承运商"), max_length=40)
    tracking_number = models.CharField(_("运单号"), max_length=40)
    shipped_at = models.DateTimeField()

    class Meta:
        ordering = ["shipped_at", "id"]


class OrderLine(BaseModel):
    class Status(models.TextChoices):
        PENDING = "pending", _("待发货")
        SHIPPED = "shipped", _("已发货")
        DELIVERED = "delivered", _("已送达")
        CANCELLED = "cancelled", _("已取消")
        REJECTED = "rejected", _("缺货退回")

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    title = models.ForeignKey("catalog.Title", on_delete=models.PROTECT, related_name="+")
    offer = models.ForeignKey("catalog.Offer", on_delete=models.PROTECT, related_name="+")
    supplier = models.ForeignKey("suppliers.Supplier", on_delete=models.PROTECT, related_name="+")
    category_name = models.CharField(max_length=40, blank=True)  # for the report, as ordered
    list_price_fen = models.PositiveIntegerField(_("定价（分）"))
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    barcode = models.CharField(_("条码"), max_length=40, blank=True)
    shipment = models.ForeignKey(
        Shipment, null=True, blank=True, on_delete=models.PROTECT, related_name="lines"
    )
    status_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["barcode"], condition=~Q(barcode=""), name="order_line_barcode_unique"
            )
        ]

    @property
    def holds(self) -> bool:
        """Whether the line still holds stock, quota and budget commitment."""
        return self.status in (self.Status.PENDING, self.Status.SHIPPED)


class OrderEvent(EventRow):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")


class WaitListEntry(BaseModel):
    """A reader waiting for a sold-out title; told in turn when stock comes back."""

    class Status(models.TextChoices):
        WAITING = "waiting", _("等待中")
        NOTIFIED = "notified", _("已通知")
        ORDERED = "ordered", _("已下单")
        EXPIRED = "expired", _("已过期")
        WITHDRAWN = "withdrawn", _("已退出")

    reader = models.ForeignKey("readers.Reader", on_delete=models.CASCADE, related_name="+")
    title = models.ForeignKey("catalog.Title", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WAITING)
    notified_at = models.DateTimeField(null=True, blank=True)
    window_ends_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "title"],
                condition=Q(status__in=["waiting", "notified"]),
                name="one_open_wait_per_reader_title",
            )
        ]
