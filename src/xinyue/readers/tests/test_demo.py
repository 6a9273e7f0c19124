"""``xinyue seed-demo``: the demo readers, idempotent, with valid (made-up) ID numbers."""

from __future__ import annotations

import io

import pytest

from xinyue.readers import demo
from xinyue.readers.models import Reader
from xinyue.readers.selectors import has_consent
from xinyue.readers.services.identity import authenticate_reader


@pytest.mark.django_db
def test_seed_is_idempotent_and_readers_can_log_in():
    first = demo.seed(options={}, stdout=io.StringIO())
    second = demo.seed(options={}, stdout=io.StringIO())
    assert first == second
    assert [c[0] for c in first] == [
        "reader (admitted)",
        "reader (admitted)",
        "reader (refused)",
        "reader (new)",
    ]
    assert Reader.objects.count() == 4
    reader = authenticate_reader(id_number=first[0][1], password=demo.DEMO_PASSWORD)
    assert has_consent(reader=reader, purpose="credit_check") is True
    assert len(demo.demo_reader("admitted")) == 2
    assert demo.demo_reader("admitted")[0].pk == reader.pk
    (refused,) = demo.demo_reader("refused")
    assert has_consent(reader=refused, purpose="share_borrowing") is False
