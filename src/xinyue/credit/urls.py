"""Pages of the credit app, and the sandbox gateway mounted at /sandbox/zhima/ (embedded mode)."""

from django.urls import include, path

from xinyue.credit import views

app_name = "credit"
urlpatterns = [
    path("credit/", views.authorize, name="authorize"),
    path(
        "credit/authorizations/<int:authorization_id>/",
        views.authorization_result,
        name="authorization",
    ),
    path(
        "credit/authorizations/<int:authorization_id>/return/",
        views.authorization_return,
        name="authorization_return",
    ),
    path(
        "credit/authorizations/<int:authorization_id>/status/",
        views.authorization_status,
        name="authorization_status",
    ),
    path(
        "credit/authorizations/<int:authorization_id>/cancel/",
        views.authorization_cancel,
        name="authorization_cancel",
    ),
    path("console/credit/", views.console_settings, name="console_settings"),
    path("login/<str:channel>/", views.channel_start, name="channel_start"),
    path("login/<str:channel>/callback/", views.channel_callback, name="channel_callback"),
    path("login/<str:channel>/bind/", views.channel_bind, name="channel_bind"),
    path("login/<str:channel>/bind/cancel/", views.channel_bind_cancel, name="channel_bind_cancel"),
    path("sandbox/zhima/", include("xinyue.credit.sandbox.urls")),
]
