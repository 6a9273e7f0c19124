from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "xinyue.orders"
    label = "orders"
