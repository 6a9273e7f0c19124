from django.apps import AppConfig


class SuppliersConfig(AppConfig):
    name = "xinyue.suppliers"
    label = "suppliers"
