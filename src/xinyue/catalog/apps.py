from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "xinyue.catalog"
    label = "catalog"
