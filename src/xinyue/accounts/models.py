"""People who work on the platform (operators, library staff, supplier staff) and API keys.

Readers are a separate model in ``xinyue.readers`` (they log in by ID number); a ``User`` of kind
``reader`` is reserved for that app to attach sessions to.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel, LoginThrottleRow


class User(AbstractUser):
    class Kind(models.TextChoices):
        OPERATOR = "operator", _("平台运营")
        STAFF = "staff", _("馆员")
        SUPPLIER = "supplier", _("书商")
        READER = "reader", _("读者")

    class Role(models.TextChoices):
        DESK = "desk", _("流通台")
        ADMIN = "admin", _("馆管理员")

    kind = models.CharField(_("类型"), max_length=10, choices=Kind.choices, default=Kind.STAFF)
    display_name = models.CharField(_("姓名"), max_length=60, blank=True)
    library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )
    role = models.CharField(_("角色"), max_length=10, choices=Role.choices, blank=True)
    supplier = models.ForeignKey(
        "suppliers.Supplier", null=True, blank=True, on_delete=models.PROTECT, related_name="staff"
    )

    class Meta:
        constraints = [
            models.CheckConstraint(
                name="staff_has_library_and_role",
                condition=~models.Q(kind="staff")
                | (models.Q(library__isnull=False) & ~models.Q(role="")),
            ),
            models.CheckConstraint(
                name="supplier_user_has_supplier",
                condition=~models.Q(kind="supplier") | models.Q(supplier__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class ApiKey(BaseModel):
    """A bearer key for a machine client, scoped to a library, a supplier or the platform.

    Only a SHA-256 of the secret is stored; the secret is shown once at creation. The token is
    ``xy_<prefix>_<secret>``: the prefix finds the row, the hash proves the secret.
    """

    class Scope(models.TextChoices):
        PLATFORM = "platform", _("全平台")
        LIBRARY = "library", _("成员馆")
        SUPPLIER = "supplier", _("书商")

    name = models.CharField(_("名称"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    scope = models.CharField(_("范围"), max_length=10, choices=Scope.choices)
    library = models.ForeignKey(
        "libraries.Library", null=True, blank=True, on_delete=models.PROTECT
    )
    supplier = models.ForeignKey(
        "suppliers.Supplier", null=True, blank=True, on_delete=models.PROTECT
    )
    role = models.CharField(max_length=10, choices=User.Role.choices, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                name="api_key_scope_target",
                condition=(
                    models.Q(scope="platform", library__isnull=True, supplier__isnull=True)
                    | models.Q(scope="library", library__isnull=False, supplier__isnull=True)
                    | models.Q(scope="supplier", supplier__isnull=False, library__isnull=True)
                ),
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None


class LoginThrottle(LoginThrottleRow):
    """Failed staff and operator log-ins per user name and per client address (keyed hashes),
    shared by every web process (``xinyue.core.login_throttle``, the readers' mechanism)."""

    class Scope(models.TextChoices):
        USERNAME = "user"
        IP = "ip"

    scope = models.CharField(max_length=4, choices=Scope.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="staff_login_throttle_key")
        ]
