from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "xinyue.insights"
    label = "insights"
