from django.contrib import admin
from django.contrib.auth.admin import UserAdmin
from django.utils.translation import gettext_lazy as _

from xinyue.accounts.forms import BackofficeLoginForm
from xinyue.accounts.models import ApiKey, User

# The back office's log-in is throttled and audited like the console's.
admin.site.login_form = BackofficeLoginForm


@admin.register(User)
class PlatformUserAdmin(UserAdmin):
    list_display = ("username", "display_name", "kind", "library", "role", "supplier", "is_active")
    list_filter = ("kind", "role", "is_active")
    fieldsets = (
        *UserAdmin.fieldsets,
        (_("信阅"), {"fields": ("kind", "display_name", "library", "role", "supplier")}),
    )


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "prefix",
        "scope",
        "library",
        "supplier",
        "role",
        "revoked_at",
        "last_used_at",
    )
    readonly_fields = ("prefix", "secret_hash")
