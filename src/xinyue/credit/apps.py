from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "xinyue.credit"
    label = "credit"
