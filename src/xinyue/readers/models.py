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


class Card(BaseModel):
    """A library card of a reader at one member library (services: READERS-CARDS)."""

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


# --- cards: numbering, link requests, manual reviews (READERS-CARDS) -----------------------------


class CardSeries(models.Model):
    """The running number of the platform's card series at one library. Allocation bumps
    ``last_number`` with one UPDATE inside the issuing transaction (the row lock orders issues)."""

    library = models.OneToOneField(
        "libraries.Library", on_delete=models.CASCADE, related_name="card_series"
    )
    last_number = models.PositiveBigIntegerField(default=0)

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
