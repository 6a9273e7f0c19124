"""Library cards: credit, deposit and linked existing cards of readers at member libraries, the
platform's card number series, link requests and manual reviews.

The tables were created by the readers app and keep their ``readers_*`` names: the models moved,
the data stayed (``migrations/0001_initial.py``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, EventRow
from xinyue.readers.models import Reader


class Card(BaseModel):
    """A library card of a reader at one member library."""

    class Kind(models.TextChoices):
        CREDIT = "credit", _("信用免押证")
        DEPOSIT = "deposit", _("押金证")
        EXISTING = "existing", _("已有读者证")

    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        SUSPENDED = "suspended", _("暂停")
        CANCELLED = "cancelled", _("注销")

    reader = models.ForeignKey(Reader, on_delete=models.PROTECT, related_name="cards")
    library = models.ForeignKey("libraries.Library", on_delete=models.PROTECT, related_name="cards")
    number = models.CharField(_("证号"), max_length=40)
    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices)
    status = models.CharField(
        _("状态"), max_length=10, choices=Status.choices, default=Status.ACTIVE
    )
    deposit_fen = models.PositiveIntegerField(_("押金（分）"), default=0)
    issued_at = models.DateTimeField(_("办证时间"))
    service_activated_at = models.DateTimeField(_("开通信阅服务时间"), null=True, blank=True)
    status_reason = models.CharField(_("状态原因"), max_length=200, blank=True)

    class Meta:
        db_table = "readers_card"
        ordering = ["issued_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["library", "number"], name="card_number_per_library"),
            models.UniqueConstraint(
                fields=["reader", "library"],
                condition=~models.Q(status="cancelled"),
                name="one_open_card_per_reader_library",
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=["credit", "deposit", "existing"]),
                name="card_kind_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["active", "suspended", "cancelled"]),
                name="card_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.library_id}/{self.number}"


class CardEvent(EventRow):
    card = models.ForeignKey(Card, on_delete=models.CASCADE, related_name="events")

    class Meta(EventRow.Meta):
        db_table = "readers_cardevent"


class CardSeries(models.Model):
    """The running number of the platform's card series at one library. Allocation bumps
    ``last_number`` with one UPDATE inside the issuing transaction (the row lock orders issues)."""

    library = models.OneToOneField(
        "libraries.Library", on_delete=models.CASCADE, related_name="card_series"
    )
    last_number = models.PositiveBigIntegerField(default=0)

    class Meta:
        db_table = "readers_cardseries"

    def __str__(self) -> str:
        return f"{self.library_id}: {self.last_number}"


class CardLinkRequest(BaseModel):
    """One attempt to link a card the reader already holds at a member library.

    ``pending`` waits for the library's staff; ``verified`` passed the library's SIP2 or REST
    check; ``failed`` did not (failures feed the guessing throttle); the card is set once linked.
    The card's password is never stored.
    """

    class Method(models.TextChoices):
        STAFF = "staff", _("馆员审核")
        SIP2 = "sip2", _("SIP2 核验")
        REST = "rest", _("接口核验")
        HELD = "held", _("平台已有此证")

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        VERIFIED = "verified", _("已核验")
        APPROVED = "approved", _("已通过")
        REFUSED = "refused", _("未通过")
        FAILED = "failed", _("核验失败")
        WITHDRAWN = "withdrawn", _("已撤回")

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="link_requests")
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="card_link_requests"
    )
    card_number = models.CharField(_("证号"), max_length=40)
    method = models.CharField(max_length=8, choices=Method.choices)
    status = models.CharField(max_length=10, choices=Status.choices, db_index=True)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="link_requests"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=40, blank=True)
    decision_note = models.CharField(max_length=200, blank=True)

    class Meta:
        db_table = "readers_cardlinkrequest"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "library"],
                condition=models.Q(status="pending"),
                name="one_pending_link_request",
            )
        ]

    def __str__(self) -> str:
        return f"link {self.library_id}/{self.card_number} ({self.status})"


class ManualReview(BaseModel):
    """A reader not admitted by credit asks a library to decide. ``approved`` lets that library
    issue one deposit-free card without credit admittance (``used`` once it did)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REFUSED = "refused", _("未通过")
        USED = "used", _("已办证")
        WITHDRAWN = "withdrawn", _("已撤回")

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="card_reviews")
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="card_reviews"
    )
    message = models.CharField(_("读者说明"), max_length=300, blank=True)
    refusal_reason = models.CharField(max_length=20, blank=True)  # not_authorized | refused
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.CharField(max_length=40, blank=True)
    decided_by_label = models.CharField(max_length=120, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    card = models.ForeignKey(
        Card, null=True, blank=True, on_delete=models.SET_NULL, related_name="reviews"
    )

    class Meta:
        db_table = "readers_manualreview"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "library"],
                condition=models.Q(status__in=["pending", "approved"]),
                name="one_open_review_per_library",
            )
        ]

    def __str__(self) -> str:
        return f"review {self.library_id} ({self.status})"
