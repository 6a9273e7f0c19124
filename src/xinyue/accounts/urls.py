from django.contrib.auth import views as auth_views
from django.urls import path

from xinyue.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(next_page="/"), name="logout"),
    path("console/", views.console_home, name="console"),
    path("console/staff/", views.console_staff, name="console_staff"),
    path(
        "console/staff/<int:user_id>/toggle/",
        views.console_staff_toggle,
        name="console_staff_toggle",
    ),
    path("console/api-keys/", views.console_api_keys, name="console_api_keys"),
    path(
        "console/api-keys/<int:key_id>/revoke/",
        views.console_api_key_revoke,
        name="console_api_key_revoke",
    ),
    path("console/audit/", views.console_audit, name="console_audit"),
]
