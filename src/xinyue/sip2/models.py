"""Kiosk accounts: how a member library's self-service kiosks log in to our SIP2 server (93).

One account per kiosk (or per group of kiosks configured alike), owned by one library. The
password is kept as a Django password hash; the character set is the one the kiosk's firmware
speaks (Chinese kiosks mostly GBK or GB18030), used for every byte both ways and for checksums.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, LoginThrottleRow


class Charset(models.TextChoices):
    GBK = "gbk", "GBK"
    GB18030 = "gb18030", "GB18030"
    UTF8 = "utf-8", "UTF-8"


class KioskAccount(BaseModel):
    library = models.ForeignKey(
        "libraries.Library", on_delete=models.PROTECT, related_name="kiosk_accounts"
    )
    login = models.CharField(_("登录名"), max_length=40, unique=True)
    password = models.CharField(max_length=128)  # a Django password hash
    charset = models.CharField(
        _("字符集"), max_length=10, choices=Charset.choices, default=Charset.GBK
    )
    location_code = models.CharField(_("位置代码"), max_length=40, blank=True)
    error_detection = models.BooleanField(_("要求校验和与序号"), default=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        ordering = ["library_id", "login"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(charset__in=["gbk", "gb18030", "utf-8"]),
                name="kiosk_charset_valid",
            )
        ]

    def __str__(self) -> str:
        return self.login


class PatronPasswordThrottle(LoginThrottleRow):
    """Wrong patron passwords (AD) at kiosks, per card and per kiosk account
    (``xinyue.core.login_throttle``): a guesser at a kiosk is locked out like one at the web
    log-in."""

    class Scope(models.TextChoices):
        CARD = "card"
        KIOSK = "kios"

    scope = models.CharField(max_length=4, choices=Scope.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="sip2_patron_throttle_key")
        ]
