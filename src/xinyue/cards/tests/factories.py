"""Test factories of the cards app."""

from __future__ import annotations

import factory

from xinyue.cards.models import Card
from xinyue.core import clock
from xinyue.libraries.tests.factories import LibraryFactory
from xinyue.readers.tests.factories import ReaderFactory


class CardFactory(factory.django.DjangoModelFactory):
    """A deposit card row (no service rules run): for tests about something else that need a card."""

    class Meta:
        model = Card

    reader = factory.SubFactory(ReaderFactory)
    library = factory.SubFactory(LibraryFactory)
    number = factory.Sequence(lambda n: f"T{n:06d}")
    kind = Card.Kind.DEPOSIT
    issued_at = factory.LazyFunction(clock.now)
