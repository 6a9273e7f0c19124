from django.apps import AppConfig


class LibrariesConfig(AppConfig):
    name = "xinyue.libraries"
    label = "libraries"

    def ready(self) -> None:
        from xinyue.core.history import register_webhook_publisher
        from xinyue.libraries.services import publish_library_event

        register_webhook_publisher(publish_library_event)
