"""Pages of the orders app."""

from django.urls import path

from xinyue.orders import views

app_name = "orders"
urlpatterns: list = [
    # The reader's pages: placing from the bookshelf, my orders, my loans.
    path("orders/new/", views.new_order, name="new"),
    path("orders/", views.my_orders, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.cancel_order, name="cancel"),
    path("orders/<str:number>/receipt/", views.confirm_receipt, name="receipt"),
    path("loans/", views.my_loans, name="loans"),
]
