"""Member libraries (a tree: province → city → district/county) and their webhook subscriptions."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, WebhookDeliveryRow, WebhookSubscriptionRow


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


class WebhookSubscription(WebhookSubscriptionRow):
    """A member library's system that wants to hear about events (new cards, transferred books)."""

    library = models.ForeignKey(
        Library, on_delete=models.CASCADE, related_name="webhook_subscriptions"
    )


class WebhookDelivery(WebhookDeliveryRow):
    """One event for one library subscription (``core/webhooks.py`` sends and retries it)."""

    subscription = models.ForeignKey(
        WebhookSubscription, on_delete=models.CASCADE, related_name="deliveries"
    )
