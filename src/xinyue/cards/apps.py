from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "xinyue.cards"
    label = "cards"

    def ready(self) -> None:
        # This app's part in the reader's data export and account deletion.
        from xinyue.cards.selectors import card_libraries, export_card_requests, export_cards
        from xinyue.cards.services.issuing import erase_reader_cards
        from xinyue.core.permissions import reader_library_resolvers
        from xinyue.readers.services import rights

        rights.exporters.register(export_cards)
        rights.exporters.register(export_card_requests)
        rights.erasers.register(erase_reader_cards)
        # Staff of a library count a reader as theirs while the reader holds a card there.
        reader_library_resolvers.register(card_libraries)
