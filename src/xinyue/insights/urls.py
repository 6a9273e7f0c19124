from django.urls import path

from xinyue.insights import views

app_name = "insights"
urlpatterns = [
    path("console/insights/search-terms/", views.console_search_terms, name="console_search_terms"),
]
