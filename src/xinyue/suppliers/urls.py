from django.urls import path

from xinyue.suppliers import views

app_name = "suppliers"

urlpatterns = [
    path("console/supplier/webhooks/", views.console_webhooks, name="console_webhooks"),
]
