from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "xinyue.credit"
    label = "credit"

    def ready(self) -> None:
        from xinyue.credit import checks  # noqa: F401  (registers the system checks)
