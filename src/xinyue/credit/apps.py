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
        from xinyue.readers.services import rights

        rights.obligations.register(open_credit_obligations)
        rights.exporters.register(export_credit)
        rights.erasers.register(erase_credit)
