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
    path("account/addresses/", views.addresses, name="addresses"),
    path("account/addresses/new/", views.address_new, name="address_new"),
    path("account/addresses/picker/", views.address_picker, name="address_picker"),
    path("account/addresses/<uuid:uid>/", views.address_edit, name="address_edit"),
    path(
        "account/addresses/<uuid:uid>/<str:action>/",
        views.address_action,
        name="address_action",
    ),
    path("account/messages/", views.messages_page, name="messages"),
    path("dev/sms-outbox/", views.sms_outbox, name="sms_outbox"),
]
