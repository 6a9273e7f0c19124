from django.apps import AppConfig


class Sip2Config(AppConfig):
    name = "xinyue.sip2"
    label = "sip2"
