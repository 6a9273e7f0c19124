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
from django.db.models.functions import TruncDate
from django.utils.translation import gettext_lazy as _

from xinyue.core import clock
from xinyue.core.models import BaseModel, EventRow


class Program(models.TextChoices):
    PLATFORM = "platform", _("信阅借书")
    LOCAL = "local", _("馆藏借阅")


class ItemType(models.TextChoices):
    BOOK = "book", _("普通图书")
    CHILDREN = "children", _("少儿图书")
    REFERENCE = "reference", _("工具书")
    AUDIOVISUAL = "av", _("音像资料")


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
    item_type = models.CharField(
        _("文献类型"), max_length=10, choices=ItemType.choices, default=ItemType.BOOK
    )
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


class ItemTransfer(models.Model):
    """A change of owner at a return (floating): from which library to which, when, through which
    loan. The provenance of the item (supplier, order line, price) stays on the item; this is the
    chain of owners, and what a library's system pulls as MARC ("transferred to us since")."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="transfers")
    from_library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="+"
    )
    to_library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="items_received"
    )
    loan = models.OneToOneField(
        "Loan", null=True, blank=True, on_delete=models.PROTECT, related_name="transfer"
    )
    at = models.DateTimeField(db_index=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["to_library", "at"], name="transfer_to_library_at")]

    def __str__(self) -> str:
        return f"{self.item_id}: {self.from_library_id}→{self.to_library_id}"


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
    # Whether the return at ``returned_library`` made the item that library's (a repeated
    # check-in answers the same).
    return_transferred = models.BooleanField(default=False)
    lost_at = models.DateTimeField(null=True, blank=True)
    settled_at = models.DateTimeField(null=True, blank=True)
    # Set when the loan is declared lost (list price × factor + fee of the rule then in force).
    compensation_fen = models.PositiveIntegerField(_("赔偿金额（分）"), default=0)
    # How a lost loan was settled: charged at the provider, or paid at a desk.
    settled_by = models.CharField(max_length=10, blank=True)
    # Settled by the provider: its share of the credit order's deduction, and what the deposit
    # cap left uncollected (the provider may charge at most the order's deposit, its list-price
    # total). The uncollected part is owed at a desk; it blocks new loans until paid (then 0).
    compensation_charged_fen = models.PositiveIntegerField(_("信用扣款金额（分）"), default=0)
    compensation_unpaid_fen = models.PositiveIntegerField(_("赔偿未付金额（分）"), default=0)
    # A settled book found later: the compensation to give back at a desk (no supported credit
    # provider can refund a completed order's deduction), and when a desk did.
    refund_due_fen = models.PositiveIntegerField(_("待退赔偿（分）"), default=0)
    refunded_at = models.DateTimeField(null=True, blank=True)
    # A return booked by courier or locker; the loan clock stops at ``handed_over_at`` (the
    # carrier has the book), so a carrier's delay never makes the reader overdue.
    return_method = models.CharField(_("归还方式"), max_length=10, blank=True)
    return_booked_at = models.DateTimeField(null=True, blank=True)
    handed_over_at = models.DateTimeField(_("交寄时间"), null=True, blank=True)
    # The member library the carrier brings the book to (its staff check it in on arrival).
    return_library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

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
        """Past the due date and still with the reader: once handed to a carrier, the clock
        stopped then (the same rule as ``overdue_q``)."""
        if self.status != self.Status.ON_LOAN:
            return False
        if self.handed_over_at is not None:
            return self.due_on < clock.local(self.handed_over_at).date()
        return self.due_on < clock.today()


def overdue_q(today) -> Q:
    """The loans overdue on ``today``, as a filter: the one definition of overdue for queries
    (``Loan.is_overdue`` is the same for one loan). A loan handed to a carrier is overdue only
    when it was already overdue at the hand-off."""
    return Q(status=Loan.Status.ON_LOAN) & (
        Q(handed_over_at__isnull=True, due_on__lt=today)
        | Q(handed_over_at__isnull=False, due_on__lt=TruncDate("handed_over_at"))
    )


class LoanEvent(EventRow):
    loan = models.ForeignKey(Loan, on_delete=models.CASCADE, related_name="events")


class CirculationRule(BaseModel):
    """One row of the circulation rules (Koha's model): keyed by library, reader category, item
    type and program, a blank key meaning "any". For a loan the most specific matching row wins
    (``xinyue.circulation.selectors.rules``: library, then program, then reader category, then
    item type). Rows without a library are the province's defaults, kept by the operator; a
    library's admins keep their library's rows."""

    library = models.ForeignKey(
        "libraries.Library",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="circulation_rules",
    )
    reader_category = models.CharField(_("读者类型"), max_length=10, blank=True)  # a card kind
    item_type = models.CharField(_("文献类型"), max_length=10, blank=True)
    program = models.CharField(_("项目"), max_length=10, blank=True)
    loan_days = models.PositiveSmallIntegerField(_("借期（天）"))
    renewals = models.PositiveSmallIntegerField(_("可续借次数"))
    renewal_grace_days = models.PositiveSmallIntegerField(_("逾期后仍可续借天数"))
    max_open_loans = models.PositiveSmallIntegerField(_("最多在借册数"))
    compensation_factor_permille = models.PositiveIntegerField(_("赔偿倍数（‰）"))
    compensation_fee_fen = models.PositiveIntegerField(_("赔偿手续费（分）"))
    remind_days_before = models.PositiveSmallIntegerField(_("到期前提醒天数"), default=3)
    lost_after_days = models.PositiveSmallIntegerField(_("逾期多少天视为遗失"), default=60)

    class Meta:
        ordering = ["library_id", "program", "reader_category", "item_type"]
        constraints = [
            models.UniqueConstraint(
                fields=["library", "reader_category", "item_type", "program"],
                condition=Q(library__isnull=False),
                name="circulation_rule_key_per_library",
            ),
            models.UniqueConstraint(
                fields=["reader_category", "item_type", "program"],
                condition=Q(library__isnull=True),
                name="circulation_rule_key_province",
            ),
        ]

    def __str__(self) -> str:
        return "/".join(
            [
                str(self.library_id or "*"),
                self.reader_category or "*",
                self.item_type or "*",
                self.program or "*",
            ]
        )


class CreditRecord(BaseModel):
    """One thing sent (or to be sent) to the credit provider about a reader: the outbox row and,
    once sent, the reader's credit record. Every borrow, renewal, return, overdue and charge is
    one row with a unique ``key`` (``loan:<id>:<kind>[:<n>]``), so writing it twice is a no-op;
    a worker sends it with retries (``core.retries``), and the credit order at the provider is
    idempotent under its ``out_order_no``, so the provider has it exactly once. The reader may
    dispute a row; the library answers the dispute (and corrects at the provider)."""

    class Kind(models.TextChoices):
        BORROW = "borrow", _("借出")
        RENEW = "renew", _("续借")
        RETURN = "return", _("归还")
        OVERDUE = "overdue", _("逾期")
        CHARGE = "charge", _("遗失赔付扣款")
        CORRECTION = "correction", _("更正")

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")
        CANCELLED = "cancelled", _("已撤回")

    class Dispute(models.TextChoices):
        NONE = "", _("无")
        OPEN = "open", _("异议处理中")
        CORRECTED = "corrected", _("已更正")
        REJECTED = "rejected", _("异议不成立")

    key = models.CharField(max_length=80, unique=True)
    reader = models.ForeignKey(
        "readers.Reader", on_delete=models.PROTECT, related_name="credit_records"
    )
    loan = models.ForeignKey(
        Loan, null=True, blank=True, on_delete=models.PROTECT, related_name="credit_records"
    )
    library = models.ForeignKey("libraries.Library", on_delete=models.PROTECT, related_name="+")
    credit_reference = models.CharField(max_length=80)
    kind = models.CharField(_("内容"), max_length=12, choices=Kind.choices)
    state = models.CharField(
        _("状态"), max_length=10, choices=State.choices, default=State.PENDING, db_index=True
    )
    charge_fen = models.PositiveIntegerField(default=0)
    due_on = models.DateField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    dispute = models.CharField(max_length=10, choices=Dispute.choices, blank=True, db_index=True)
    dispute_reason = models.CharField(max_length=500, blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    dispute_answer = models.CharField(max_length=500, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["reader", "created_at"], name="credit_record_reader")]

    def __str__(self) -> str:
        return self.key


class CreditDrift(BaseModel):
    """What the nightly reconciliation found: our credit order's state differs from the
    provider's, or the provider could not be asked. Shown to the operator until resolved."""

    credit_reference = models.CharField(max_length=80, db_index=True)
    ours = models.CharField(max_length=16)
    provider = models.CharField(max_length=16, blank=True)
    note = models.CharField(max_length=200, blank=True)
    found_on = models.DateField(db_index=True)

    class Meta:
        ordering = ["-found_on", "-id"]


class BorrowSession(BaseModel):
    """QR credit borrowing: the desk or a kiosk names the items, shows a short-lived QR code, and
    the reader who scans it while logged in confirms. The loans are local ones, opened under one
    provider credit order (reference ``borrow:<id>``). The token is a one-time bearer secret:
    only its SHA-256 is stored; a session is confirmed once, by one reader, before it expires."""

    class Status(models.TextChoices):
        OPEN = "open", _("待读者确认")
        CLAIMED = "claimed", _("确认中")
        CONFIRMED = "confirmed", _("已借出")
        FAILED = "failed", _("未能借出")

    token_hash = models.CharField(max_length=64, unique=True)
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="borrow_sessions"
    )
    barcodes = models.JSONField(default=list)
    created_by = models.CharField(max_length=80, blank=True)  # who showed the QR (actor label)
    expires_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    reader = models.ForeignKey(
        "readers.Reader",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="borrow_sessions",
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    failure = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"borrow:{self.pk}"

    @property
    def credit_reference(self) -> str:
        return f"borrow:{self.pk}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= clock.now()


class BorrowSessionEvent(EventRow):
    session = models.ForeignKey(BorrowSession, on_delete=models.CASCADE, related_name="events")
