from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "xinyue.circulation"
    label = "circulation"

    def ready(self) -> None:
        from xinyue.circulation import selectors, services
        from xinyue.orders import hooks

        hooks.register("titles_on_loan", selectors.titles_on_loan)
        hooks.register("items_shipped", services.create_platform_items)
        hooks.register("loans_started", services.start_platform_loans)
