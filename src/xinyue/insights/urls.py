"""Pages of the insights app."""

app_name = "insights"
urlpatterns: list = []
