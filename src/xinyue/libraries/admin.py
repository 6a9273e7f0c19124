from django.contrib import admin

from xinyue.libraries.models import Library, WebhookDelivery, WebhookSubscription


@admin.register(Library)
class LibraryAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent", "is_active", "is_operator")
    list_filter = ("level", "is_active")
    search_fields = ("code", "name")


admin.site.register(WebhookSubscription)
admin.site.register(WebhookDelivery)
