"""Pages of the cards app: the reader's cards and the library desk."""

from django.urls import path

from xinyue.cards import views, views_desk

app_name = "cards"
urlpatterns: list = [
    path("cards/", views.my_cards, name="my_cards"),
    path("cards/new/", views.get_card, name="get_card"),
    path("cards/link/", views.link_card, name="link_card"),
    path("cards/review/", views.request_review, name="request_review"),
    path("cards/<str:library_code>/", views.card_detail, name="card_detail"),
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
