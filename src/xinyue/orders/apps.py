from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "xinyue.orders"
    label = "orders"

    def ready(self) -> None:
        # The catalog tells us when titles have copies again (the wait-list); it never imports us.
        from xinyue.catalog.services.offers import register_stock_listener
        from xinyue.orders.services import wait_list_stock_returned

        register_stock_listener(wait_list_stock_returned)
