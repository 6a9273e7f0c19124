"""Pages of the circulation app: the reader's renewal, the return desk, desk lending, the
circulation rules."""

from django.urls import path

from xinyue.circulation import views

app_name = "circulation"
urlpatterns: list = [
    path("loans/<int:loan_id>/renew/", views.renew_my_loan, name="renew"),
    path("credit-records/", views.my_credit_records, name="my_credit_records"),
    path("compensation/", views.my_compensation, name="my_compensation"),
    path("console/circulation/disputes/", views.console_disputes, name="console_disputes"),
    path("console/circulation/drift/", views.console_credit_drift, name="console_credit_drift"),
    path("console/desk/checkin/", views.desk_checkin, name="desk_checkin"),
    path("console/desk/checkout/", views.desk_checkout, name="desk_checkout"),
    path("console/desk/returns/", views.desk_returns, name="desk_returns"),
    path("console/desk/money/", views.desk_money, name="desk_money"),
    path("loans/<int:loan_id>/return/", views.book_my_return, name="book_return"),
    path("borrow/<str:token>/", views.borrow, name="borrow"),
    path(
        "console/desk/borrow-session/",
        views.desk_borrow_session,
        name="desk_borrow_session",
    ),
    path("console/circulation/rules/", views.console_rules, name="console_rules"),
    path(
        "console/circulation/rules/<int:rule_id>/delete/",
        views.console_rule_delete,
        name="console_rule_delete",
    ),
]
