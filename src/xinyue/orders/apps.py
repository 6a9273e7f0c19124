from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "xinyue.orders"
    label = "orders"

    def ready(self) -> None:
        # A title ordered counts five detail views in its popularity (catalog's hook).
        from xinyue.catalog.services import popularity
        from xinyue.orders.selectors import order_lines_per_title_and_day

        popularity.register_source("order_lines", weight=5, counts=order_lines_per_title_and_day)
        # The catalog tells us when titles have copies again (the wait-list); it never imports us.
        from xinyue.catalog.services.offers import register_stock_listener
        from xinyue.orders.services import wait_list_stock_returned

        register_stock_listener(wait_list_stock_returned)
