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

        # A loan counts five detail views in the title's popularity (catalog's hook).
        from xinyue.catalog.services import popularity

        popularity.register_source("loans", weight=5, counts=selectors.loans_per_title_and_day)
