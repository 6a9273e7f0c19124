"""Readers: one identity for the whole province, their cards, consents, addresses and channels.

Personal information (ID number, name, phone, address details) is stored only as vault
ciphertext (``*_ct`` columns, see ``xinyue.readers.vault``): ``<key id>$<base64(nonce|ct|tag)>``,
bound by the AAD to table, column and the row's ``uid``. The ID number is found through a keyed
HMAC blind index (``id_number_index``). Derived facts (gender, birth year, region) are in clear
for statistics (DESIGN §6).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, EventRow, LoginThrottleRow
from xinyue.readers.vault import SealedTextField


class Gender(models.TextChoices):
    FEMALE = "female", _("女")
    MALE = "male", _("男")


class Reader(BaseModel):
    """A reader of the province. One per ID number; logs in on pages through ``user``."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # A 1:1 accounts.User(kind="reader") carries the password hash and the page session.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reader",
    )
    # The reader's password hash (Django's hashers). ``user`` has an unusable password, so the
    # staff log-in page can never authenticate a reader; readers log in by ID number only.
    password = models.CharField(max_length=128, blank=True)
    # Vault ciphertexts (never clear text) and the blind index of the ID number.
    id_number_ct = SealedTextField()
    id_number_index = models.CharField(max_length=64, null=True, blank=True, unique=True)
    name_ct = SealedTextField()
    phone_ct = SealedTextField()
    phone_verified_at = models.DateTimeField(null=True, blank=True)
    # Derived facts, in clear for statistics.
    gender = models.CharField(_("性别"), max_length=6, choices=Gender.choices, blank=True)
    birth_year = models.PositiveSmallIntegerField(_("出生年份"), null=True, blank=True)
    region_code = models.CharField(_("户籍地区划代码"), max_length=6, blank=True)
    is_active = models.BooleanField(_("有效"), default=True)
    # Set when the account was deleted at the reader's request: PII erased, row anonymised.
    deleted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(gender__in=["female", "male", ""]), name="reader_gender_valid"
            )
        ]

    def __str__(self) -> str:
        return f"reader {self.pk}"


class ReaderEvent(EventRow):
    """Account-level transitions of a reader (registered, phone verified, deleted …)."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="events")


class ConsentPurpose(models.TextChoices):
    CREDIT_CHECK = "credit_check", _("信用评估授权")
    SHARE_BORROWING = "share_borrowing", _("向信用服务机构提供借阅记录")
    ID_NUMBER = "id_number", _("处理身份证号（敏感个人信息）")


class ConsentText(BaseModel):
    """One published version of a consent text. Versions count up per purpose.

    A reader's consent to an older version stays valid unless a later version was published with
    ``requires_reconsent`` (the purpose or the recipient changed: PIPL art. 14).
    """

    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=100)
    body = models.TextField()
    recipient = models.CharField(max_length=200, blank=True)
    requires_reconsent = models.BooleanField(default=False)
    published_at = models.DateTimeField()

    class Meta:
        ordering = ["purpose", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "version"], name="consent_text_version")
        ]

    def __str__(self) -> str:
        return f"{self.purpose} v{self.version}"


class Consent(BaseModel):
    """A reader's grant of one purpose, at one text version; withdrawal is kept, not deleted."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="consents")
    purpose = models.CharField(max_length=20, choices=ConsentPurpose.choices)
    text = models.ForeignKey(ConsentText, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField()
    channel = models.CharField(max_length=12)
    granted_at = models.DateTimeField()
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    # Why it ended: the reader withdrew it, a new text version replaced it, the account was deleted.
    ended_reason = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["granted_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reader", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="one_active_consent_per_purpose",
            )
        ]

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class Address(BaseModel):
    """A delivery address. The district code is clear (in-province check); the rest is vault."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="addresses")
    district_code = models.CharField(_("区县代码"), max_length=6)
    detail_ct = SealedTextField()
    recipient_ct = SealedTextField()
    phone_ct = SealedTextField()
    is_default = models.BooleanField(default=False)

    class Meta:
        ordering = ["-is_default", "id"]


class ChannelIdentity(BaseModel):
    """A provider identity (Alipay user_id, WeChat openid …) bound to a reader for channel login."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="channel_identities")
    provider = models.CharField(max_length=30)
    external_id = models.CharField(max_length=128)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["provider", "external_id"], name="channel_identity_unique"
            ),
            models.UniqueConstraint(
                fields=["reader", "provider"], name="one_identity_per_provider"
            ),
        ]


class ReaderToken(BaseModel):
    """An API bearer token of a reader: ``xyr_<prefix>_<secret>``; only a SHA-256 is kept."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="tokens")
    prefix = models.CharField(max_length=16, unique=True)
    secret_hash = models.CharField(max_length=64)
    channel = models.CharField(max_length=12)
    expires_at = models.DateTimeField(db_index=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)


class LoginThrottle(LoginThrottleRow):
    """Failed logins per ID number (its blind index) and per client IP (keyed hash), shared by
    every web process through the database (``xinyue.core.login_throttle``)."""

    class Scope(models.TextChoices):
        ID_NUMBER = "id"
        IP = "ip"

    scope = models.CharField(max_length=4, choices=Scope.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="login_throttle_key")]


class PhoneVerification(BaseModel):
    """An SMS code sent to a reader's phone; only a keyed hash of the code is kept."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="phone_codes")
    code_hash = models.CharField(max_length=64)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)


class SmsOutboxMessage(models.Model):
    """Development only: what the ``outbox`` SMS sender "sent" (masked phone, message text)."""

    sent_at = models.DateTimeField(auto_now_add=True, db_index=True)
    phone_masked = models.CharField(max_length=20)
    text = models.CharField(max_length=300)

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sent_at:%Y-%m-%d %H:%M} {self.phone_masked}"


class Message(BaseModel):
    """An in-app message to a reader (消息): every notification lands here whatever else sends it.

    ``kind`` names the event (``order.shipped``, ``waitlist.turn`` …); ``link`` is a path on this
    site. No personal data in clear: the reader reads it signed in."""

    reader = models.ForeignKey(Reader, on_delete=models.CASCADE, related_name="messages")
    kind = models.CharField(_("类型"), max_length=40)
    subject = models.CharField(_("标题"), max_length=120)
    body = models.CharField(_("内容"), max_length=1000, blank=True)
    link = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(_("已读时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["reader", "read_at"], name="message_reader_unread")]

    def __str__(self) -> str:
        return f"{self.reader_id}: {self.subject}"


class MessageDelivery(BaseModel):
    """One message through one extra sender (SMS, a channel's push …), retried on failure.

    The attempt count lives here so a retry survives a restart (``core/retries.py``)."""

    class Status(models.TextChoices):
        PENDING = "pending"
        SENT = "sent"
        FAILED = "failed"  # gave up after the last attempt

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="deliveries")
    sender = models.CharField(max_length=200)  # the dotted path of the sender class
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "sender"], name="message_delivery_once")
        ]
