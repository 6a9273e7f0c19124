"""Pages of the orders app."""

app_name = "orders"
urlpatterns: list = []
