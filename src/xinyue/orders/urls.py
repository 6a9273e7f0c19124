"""Pages of the orders app."""

from django.urls import path

from xinyue.orders import views, views_console, views_waitlist

app_name = "orders"
urlpatterns: list = [
    # The reader's pages: placing from the bookshelf, my orders, my loans.
    path("orders/new/", views.new_order, name="new"),
    path("orders/", views.my_orders, name="list"),
    path("orders/<str:number>/", views.order_detail, name="detail"),
    path("orders/<str:number>/cancel/", views.cancel_order, name="cancel"),
    path("orders/<str:number>/receipt/", views.confirm_receipt, name="receipt"),
    path("loans/", views.my_loans, name="loans"),
    # Supplier console: orders to fill, pick and ship, reject a line, delivered, packing slip.
    path("console/supplier/orders/", views_console.supplier_orders, name="console_supplier_orders"),
    path(
        "console/supplier/orders/<str:number>/",
        views_console.supplier_order,
        name="console_supplier_order",
    ),
    path(
        "console/supplier/orders/<str:number>/ship/",
        views_console.supplier_ship,
        name="console_supplier_ship",
    ),
    path(
        "console/supplier/orders/<str:number>/lines/<int:line_id>/reject/",
        views_console.supplier_reject,
        name="console_supplier_reject",
    ),
    path(
        "console/supplier/orders/<str:number>/delivered/",
        views_console.supplier_delivered,
        name="console_supplier_delivered",
    ),
    path(
        "console/supplier/orders/<str:number>/packing/",
        views_console.supplier_packing,
        name="console_supplier_packing",
    ),
    # Operator console: ordering rules and the budget.
    path("console/orders/rules/", views_console.rules, name="console_rules"),
    path("console/orders/budget/", views_console.budget, name="console_budget"),
    path(
        "console/orders/budget/<int:period_id>/",
        views_console.budget_period,
        name="console_budget_period",
    ),
    path(
        "console/orders/budget/<int:period_id>/ledger.<str:fmt>",
        views_console.budget_ledger_export,
        name="console_budget_ledger",
    ),
    # The wait-list of a title that has no copies (the title page's button).
    path(
        "wait-list/<int:title_id>/<str:action>/",
        views_waitlist.wait_list,
        name="wait_list",
    ),
]
