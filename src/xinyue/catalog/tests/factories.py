"""Test factories of the catalog app."""

from __future__ import annotations

import factory

from xinyue.catalog.models import Offer, Title
from xinyue.suppliers.tests.factories import SupplierFactory


def isbn13(n: int) -> str:
    body = f"978711{n:06d}"
    total = sum(int(d) * (1 if i % 2 == 0 else 3) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


class TitleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Title

    isbn13 = factory.Sequence(isbn13)
    title = factory.Sequence(lambda n: f"测试书名{n}")
    list_price_fen = 4500


class OfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Offer

    supplier = factory.SubFactory(SupplierFactory)
    title = factory.SubFactory(TitleFactory)
    stock = 5
    price_fen = factory.SelfAttribute("title.list_price_fen")
