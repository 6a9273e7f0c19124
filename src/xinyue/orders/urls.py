"""Pages of the orders app."""

from django.urls import path

from xinyue.orders import views_waitlist

app_name = "orders"
urlpatterns: list = [
    path(
        "wait-list/<int:title_id>/<str:action>/",
        views_waitlist.wait_list,
        name="wait_list",
    ),
]
