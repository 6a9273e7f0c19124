from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "xinyue.libraries"
    label = "libraries"

    def ready(self) -> None:
        from xinyue.core.history import webhook_publisher
        from xinyue.libraries.services import publish_library_event

        webhook_publisher.register(publish_library_event)
