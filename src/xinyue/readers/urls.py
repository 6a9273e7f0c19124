"""Pages of the readers app."""

from django.urls import path

from xinyue.readers import views

app_name = "readers"
urlpatterns: list = [
    path("reader/register/", views.register, name="register"),
    path("reader/login/", views.login, name="login"),
    path("reader/logout/", views.logout, name="logout"),
    path("account/", views.account, name="account"),
    path("account/consents/<str:purpose>/", views.consent, name="consent"),
    path("account/phone/", views.phone_verification, name="phone"),
    path("account/password/", views.change_password, name="password"),
    path("account/export/", views.export, name="export"),
    path("account/delete/", views.delete_account, name="delete"),
    path("dev/sms-outbox/", views.sms_outbox, name="sms_outbox"),
]
