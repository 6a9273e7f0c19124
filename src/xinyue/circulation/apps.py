from django.apps import AppConfig


class CirculationConfig(AppConfig):
    name = "xinyue.circulation"
    label = "circulation"

    def ready(self) -> None:
        from xinyue.circulation import selectors, services
        from xinyue.orders import hooks

        hooks.titles_on_loan.register(selectors.titles_on_loan)
        hooks.items_shipped.register(services.create_platform_items)
        hooks.loans_started.register(services.start_platform_loans)

        # A loan counts five detail views in the title's popularity (catalog's hook).
        from xinyue.catalog.services import popularity

        popularity.sources.register(
            popularity.Source(weight=5, counts=selectors.loans_per_title_and_day), key="loans"
        )
