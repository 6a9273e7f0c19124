from django.apps import AppConfig


def card_libraries(reader_id: int) -> list[int]:
    """The libraries where a reader holds a card that is not cancelled: the libraries whose
    staff count the reader as theirs (``accounts.permissions``, scope "own library")."""
    from xinyue.readers.models import Card

    return list(
        Card.objects.filter(reader_id=reader_id)
        .exclude(status=Card.Status.CANCELLED)
        .values_list("library_id", flat=True)
    )


class ReadersConfig(AppConfig):
    name = "xinyue.readers"
    label = "readers"

    def ready(self) -> None:
        from xinyue.accounts.permissions import register_reader_libraries

        register_reader_libraries(card_libraries)
