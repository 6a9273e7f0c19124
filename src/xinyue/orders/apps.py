from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "xinyue.orders"
    label = "orders"

    def ready(self) -> None:
        # A title ordered counts five detail views in its popularity (catalog's hook).
        from xinyue.catalog.services import popularity
        from xinyue.orders.selectors import order_lines_per_title_and_day

        popularity.sources.register(
            popularity.Source(weight=5, counts=order_lines_per_title_and_day), key="order_lines"
        )
        # The catalog tells us when titles have copies again (the wait-list); it never imports us.
        from xinyue.catalog.services.offers import copies_back
        from xinyue.orders.services import wait_list_stock_returned

        copies_back.register(wait_list_stock_returned)
