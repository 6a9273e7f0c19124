from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "xinyue.core"
    label = "core"
    verbose_name = "信阅 core"
