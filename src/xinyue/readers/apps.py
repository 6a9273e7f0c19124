from django.apps import AppConfig


class ReadersConfig(AppConfig):
    name = "xinyue.readers"
    label = "readers"
