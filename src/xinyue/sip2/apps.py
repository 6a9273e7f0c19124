from django.apps import AppConfig


class Sip2Config(AppConfig):
    name = "xinyue.sip2"
    label = "sip2"

    def ready(self) -> None:
        # Cards linked with ``link_card_check = "sip2"`` are verified by this app's client.
        from xinyue.cards.models import CardLinkRequest
        from xinyue.cards.services.linking import link_checks
        from xinyue.sip2.linking import check_with_sip2

        link_checks.register(check_with_sip2, key=CardLinkRequest.Method.SIP2)
