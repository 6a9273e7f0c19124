"""Test factories of the libraries app (factory_boy; one ``tests/factories.py`` per app)."""

from __future__ import annotations

import factory

from xinyue.libraries.models import Library


class LibraryFactory(factory.django.DjangoModelFactory):
    """A district library under Hangzhou (330100, loaded by the migration), code 3399xx."""

    class Meta:
        model = Library
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"3399{n:02d}")
    name = factory.Sequence(lambda n: f"测试区图书馆{n}")
    level = Library.Level.DISTRICT
    parent = factory.LazyFunction(lambda: Library.objects.get(code="330100"))
