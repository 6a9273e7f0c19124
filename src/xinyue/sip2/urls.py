from django.urls import path

from xinyue.sip2 import views

app_name = "sip2"
urlpatterns = [
    path("console/libraries/<str:code>/kiosks/", views.console_kiosks, name="console_kiosks"),
    path(
        "console/libraries/<str:code>/kiosks/<int:pk>/",
        views.console_kiosk,
        name="console_kiosk",
    ),
]
