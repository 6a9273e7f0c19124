from django.apps import AppConfig


class InsightsConfig(AppConfig):
    name = "xinyue.insights"
    label = "insights"

    def ready(self) -> None:
        # This app's part in the reader's data export and account deletion.
        from xinyue.insights.services import erase_reader_events
        from xinyue.readers.services import rights

        rights.erasers.register(erase_reader_events)

        from xinyue.insights.services import EVENTS

        EVENTS.register_exit_flush()  # events still buffered are written when the process ends

        # A title's detail-page view is the unit of its popularity (catalog's hook).
        from xinyue.catalog.services import popularity
        from xinyue.insights.selectors import detail_views_per_title_and_day

        popularity.sources.register(
            popularity.Source(weight=1, counts=detail_views_per_title_and_day), key="detail_views"
        )
