from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "xinyue.catalog"
    label = "catalog"

    def ready(self) -> None:
        # This app's part in the reader's data export and account deletion.
        from xinyue.catalog.services.bookshelf import erase_shelf, export_shelf
        from xinyue.readers.services import rights

        rights.exporters.register(export_shelf)
        rights.erasers.register(erase_shelf)

        # Popularity: a shelf add counts three detail views (the apps above add their signals).
        from xinyue.catalog.services import popularity

        popularity.sources.register(
            popularity.Source(weight=3, counts=popularity.shelf_adds), key="shelf_adds"
        )

        # The search result cache says at exit how often it answered (the HTTP bench reads it
        # from the server's log).
        from xinyue.catalog.selectors.search import RESULTS
        from xinyue.core.exiting import at_exit

        at_exit(lambda: RESULTS.log_figures("search result cache"))
