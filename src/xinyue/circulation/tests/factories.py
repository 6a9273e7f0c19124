"""Test factories of the circulation app: a local item on a library's shelf in one line."""

from __future__ import annotations

import factory

from xinyue.catalog.tests.factories import TitleFactory
from xinyue.circulation.models import Item, Program
from xinyue.core import clock
from xinyue.libraries.tests.factories import LibraryFactory


class ItemFactory(factory.django.DjangoModelFactory):
    """A library's own book (local program), available on its shelf."""

    class Meta:
        model = Item

    barcode = factory.Sequence(lambda n: f"LB{n:08d}")
    title = factory.SubFactory(TitleFactory)
    program = Program.LOCAL
    owning_library = factory.SubFactory(LibraryFactory)
    current_library = factory.SelfAttribute("owning_library")
    status = Item.Status.AVAILABLE
    list_price_fen = factory.SelfAttribute("title.list_price_fen")
    acquired_on = factory.LazyFunction(clock.today)
