"""The sandbox gateway's URLs (mounted at ``/sandbox/zhima/``)."""

from django.urls import path

from xinyue.credit.sandbox import views

app_name = "sandbox"
urlpatterns = [
    path("gateway.do", views.gateway_do, name="gateway"),
    path("oauth/authorize", views.oauth_authorize, name="oauth_authorize"),
    path("control/users", views.control_users, name="control_users"),
    path("control/faults", views.control_faults, name="control_faults"),
    path("control/notifications", views.control_notifications, name="control_notifications"),
]
