from django.apps import AppConfig


class Sip2Config(AppConfig):
    name = "xinyue.sip2"
    label = "sip2"

    def ready(self) -> None:
        # Cards linked with ``link_card_check = "sip2"`` are verified by this app's client.
        from xinyue.cards.models import CardLinkRequest
        from xinyue.cards.services.linking import register_link_check
        from xinyue.sip2.linking import check_with_sip2

        register_link_check(CardLinkRequest.Method.SIP2, check_with_sip2)
