"""Items (physical copies) and loans.

An ``Item`` keeps where it came from (provenance: supplier, order line, list price, acquired
date) apart from where it belongs now (``owning_library``, which changes when a platform book is
returned at another member library: "return anywhere", floating) and where it is
(``current_library``). A ``Loan`` belongs to a program (``platform`` orders, ``local`` desk or
kiosk borrowing); quotas count per program. Overdue is derived from ``due_on``, never a state.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from xinyue.core import clock
from xinyue.core.models import BaseModel, EventRow


class Program(models.TextChoices):
    PLATFORM = "platform", _("信阅借书")
    LOCAL = "local", _("馆藏借阅")


class Item(BaseModel):
    class Status(models.TextChoices):
        AVAILABLE = "available", _("在架")
        IN_TRANSIT = "in_transit", _("在途")
        ON_LOAN = "on_loan", _("借出")
        LOST = "lost", _("遗失")
        WITHDRAWN = "withdrawn", _("剔除")

    barcode = models.CharField(_("条码"), max_length=40, unique=True)
    title = models.ForeignKey("catalog.Title", on_delete=models.PROTECT, related_name="items")
    program = models.CharField(_("来源项目"), max_length=10, choices=Program.choices)
    owning_library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="owned_items"
    )
    current_library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.AVAILABLE
    )
    # Provenance: kept when ownership moves.
    supplier = models.ForeignKey(
        "suppliers.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    order_line = models.OneToOneField(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="item"
    )
    list_price_fen = models.PositiveIntegerField(_("定价（分）"), default=0)
    acquired_on = models.DateField(_("入藏日期"))
    transferred_at = models.DateTimeField(_("转入本馆时间"), null=True, blank=True)

    class Meta:
        ordering = ["barcode"]

    def __str__(self) -> str:
        return self.barcode


class ItemEvent(EventRow):
    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="events")


class Loan(BaseModel):
    class Status(models.TextChoices):
        ON_LOAN = "on_loan", _("借阅中")
        RETURNED = "returned", _("已归还")
        LOST = "lost", _("已遗失")
        SETTLED = "settled", _("已赔付")

    program = models.CharField(_("项目"), max_length=10, choices=Program.choices)
    reader = models.ForeignKey("readers.Reader", on_delete=models.PROTECT, related_name="loans")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="loans")
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="loans"
    )  # the lending library (the operator for platform loans)
    order_line = models.OneToOneField(
        "orders.OrderLine", null=True, blank=True, on_delete=models.PROTECT, related_name="loan"
    )
    credit_reference = models.CharField(max_length=80, blank=True)  # the credit order's reference
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ON_LOAN, db_index=True
    )
    started_at = models.DateTimeField(_("借出时间"))
    due_on = models.DateField(_("应还日期"), db_index=True)
    renewals = models.PositiveSmallIntegerField(_("续借次数"), default=0)
    returned_at = models.DateTimeField(_("归还时间"), null=True, blank=True)
    returned_library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lost_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status__in=["on_loan", "lost"]),
                name="one_open_loan_per_item",
            )
        ]

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.ON_LOAN

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.ON_LOAN and self.due_on < clock.today()


class LoanEvent(EventRow):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="events")
