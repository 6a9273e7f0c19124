"""URL map: the API under /api/v1/, pages per app, the Django admin as a back-office fallback."""

from django.contrib import admin
from django.urls import include, path

from xinyue.api import api

urlpatterns = [
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("backoffice/", admin.site.urls),
    path("", include("xinyue.accounts.urls")),
    path("", include("xinyue.libraries.urls")),
    path("", include("xinyue.suppliers.urls")),
    path("", include("xinyue.readers.urls")),
    path("", include("xinyue.cards.urls")),
    path("", include("xinyue.credit.urls")),
    path("", include("xinyue.orders.urls")),
    path("", include("xinyue.circulation.urls")),
    path("", include("xinyue.sip2.urls")),
    path("", include("xinyue.insights.urls")),
    path("", include("xinyue.catalog.urls")),
]
