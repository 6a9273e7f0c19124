from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "xinyue.circulation"
    label = "circulation"
