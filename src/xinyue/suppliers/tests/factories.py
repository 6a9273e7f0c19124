"""Test factories of the suppliers app."""

from __future__ import annotations

import factory

from xinyue.suppliers.models import Supplier


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"supplier-{n}")
    name = factory.Sequence(lambda n: f"书商{n}")
