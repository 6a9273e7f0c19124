from django.urls import path

from xinyue.libraries import views

app_name = "libraries"
urlpatterns = [
    path("city/<str:code>/", views.choose_city, name="choose_city"),
    path("libraries/", views.directory, name="directory"),
    path("libraries/<str:code>/", views.library_page, name="library"),
    path("console/libraries/", views.console_libraries, name="console_libraries"),
    path("console/libraries/<str:code>/", views.console_library, name="console_library"),
    path("console/libraries/<str:code>/webhooks/", views.console_webhooks, name="console_webhooks"),
]
