"""Member libraries (a tree: province → city → district/county) and their webhook subscriptions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel


class Library(BaseModel):
    class Level(models.TextChoices):
        PROVINCE = "province", _("省级")
        CITY = "city", _("市级")
        DISTRICT = "district", _("区县级")

    code = models.CharField(_("行政区划代码"), max_length=12, unique=True)
    name = models.CharField(_("馆名"), max_length=100)
    level = models.CharField(_("级别"), max_length=10, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    opening_hours = models.CharField(_("开放时间"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    is_operator = models.BooleanField(_("平台运营方"), default=False)
    # Per-library settings of its own (card series, link-card check, floating …); see
    # ``xinyue.libraries.settings_schema`` for the keys and their defaults.
    settings = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_operator"],
                condition=models.Q(is_operator=True),
                name="one_operator_library",
            ),
            models.CheckConstraint(
                condition=models.Q(level__in=["province", "city", "district"]),
                name="library_level_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def city_code(self) -> str:
        """The city this library belongs to (its own code for a city, '' for the province)."""
        if self.level == self.Level.PROVINCE:
            return ""
        return self.code[:4] + "00"


class WebhookSubscription(BaseModel):
    """A member library's system that wants to hear about events (new cards, transferred books)."""

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=100)
    event_types = models.JSONField(default=list, blank=True, help_text="empty = every event")
    is_active = models.BooleanField(default=True)

    def wants(self, event_type: str) -> bool:
        return self.is_active and (not self.event_types or event_type in self.event_types)


class WebhookDelivery(BaseModel):
    """One event for one subscription; retried through background work until delivered."""

    class Status(models.TextChoices):
        PENDING = "pending"
        DELIVERED = "delivered"
        FAILED = "failed"  # gave up after the last attempt

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
    event_id = models.CharField(max_length=40, unique=True)
    event_type = models.CharField(max_length=60)
    payload = models.JSONField()
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
