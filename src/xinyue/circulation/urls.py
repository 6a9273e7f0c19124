"""Pages of the circulation app."""

app_name = "circulation"
urlpatterns: list = []
