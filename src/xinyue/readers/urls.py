"""Pages of the readers app."""

from django.urls import path

from xinyue.readers import views, views_cards, views_desk

app_name = "readers"
urlpatterns: list = [
    # identity and the reader's account (READERS-ID)
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
    path("dev/sms-outbox/", views.sms_outbox, name="sms_outbox"),
    # cards (READERS-CARDS)
    path("cards/", views_cards.my_cards, name="my_cards"),
    path("cards/new/", views_cards.get_card, name="get_card"),
    path("cards/link/", views_cards.link_card, name="link_card"),
    path("cards/review/", views_cards.request_review, name="request_review"),
    path("cards/<str:library_code>/", views_cards.card_detail, name="card_detail"),
    path("console/desk/", views_desk.desk_home, name="desk_home"),
    path("console/desk/deposit-card/", views_desk.desk_deposit_card, name="desk_deposit_card"),
    path(
        "console/desk/cards/<str:library_code>/<str:number>/<str:action>/",
        views_desk.desk_card_action,
        name="desk_card_action",
    ),
    path("console/desk/requests/", views_desk.desk_requests, name="desk_requests"),
    path(
        "console/desk/link-requests/<int:request_id>/<str:decision>/",
        views_desk.desk_link_decision,
        name="desk_link_decision",
    ),
    path(
        "console/desk/reviews/<int:review_id>/<str:decision>/",
        views_desk.desk_review_decision,
        name="desk_review_decision",
    ),
]
