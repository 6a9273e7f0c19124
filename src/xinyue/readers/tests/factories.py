"""Test factories of the readers app. A reader is registered through the real service (the vault,
the blind index and the consents are the point), with a valid made-up ID number per sequence."""

from __future__ import annotations

import factory
from stdnum.cn import ric

from xinyue.readers.models import Reader
from xinyue.readers.services.identity import register_reader


def id_number(n: int) -> str:
    """A valid ID number: 西湖区, born 1990-01-01, sequence ``n`` (0–999)."""
    body = f"33010619900101{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")  # it reads the first 17 of 18 digits


class ReaderFactory(factory.Factory):
    class Meta:
        model = Reader

    id_number = factory.Sequence(lambda n: id_number(n + 100))
    name = "测试读者"
    phone = factory.Sequence(lambda n: f"139{n:08d}")
    password = "read-more-books-9"

    @classmethod
    def _create(cls, model_class: type[Reader], **kwargs: object) -> Reader:
        return register_reader(**kwargs)  # type: ignore[arg-type]
