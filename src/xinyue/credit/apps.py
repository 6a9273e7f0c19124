from django.apps import AppConfig


class CreditConfig(AppConfig):
    name = "xinyue.credit"
    label = "credit"

    def ready(self) -> None:
        from xinyue.credit import checks  # noqa: F401  (registers the system checks)
        from xinyue.credit.services.rights import (
            erase_credit,
            export_credit,
            open_credit_obligations,
        )
        from xinyue.readers.services.rights import register_rights_hooks

        register_rights_hooks(
            obligations=open_credit_obligations, exporter=export_credit, eraser=erase_credit
        )
