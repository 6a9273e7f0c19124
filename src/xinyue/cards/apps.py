from django.apps import AppConfig


class CardsConfig(AppConfig):
    name = "xinyue.cards"
    label = "cards"

    def ready(self) -> None:
        # This app's part in the reader's data export and account deletion.
        from xinyue.cards.selectors import card_libraries, export_card_requests, export_cards
        from xinyue.cards.services.issuing import erase_reader_cards
        from xinyue.core.permissions import register_reader_libraries
        from xinyue.readers.services.rights import register_rights_hooks

        register_rights_hooks(exporter=export_cards, eraser=erase_reader_cards)
        register_rights_hooks(exporter=export_card_requests)
        # Staff of a library count a reader as theirs while the reader holds a card there.
        register_reader_libraries(card_libraries)
