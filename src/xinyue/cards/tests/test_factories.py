"""The shared factories build valid rows that the services accept."""

from __future__ import annotations

from xinyue.cards.models import Card
from xinyue.cards.tests.factories import CardFactory
from xinyue.catalog.tests.factories import OfferFactory


def test_a_card_factory_builds_a_reader_who_can_log_in_and_a_card_at_a_library(db):
    card = CardFactory()
    assert Card.objects.get(pk=card.pk).library.parent.code == "330100"
    assert card.reader.is_active


def test_an_offer_factory_builds_a_supplier_and_a_title(db):
    offer = OfferFactory(stock=2)
    assert (offer.stock, offer.price_fen, len(offer.title.isbn13)) == (2, 4500, 13)
