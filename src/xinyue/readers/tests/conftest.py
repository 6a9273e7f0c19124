"""Fixtures of the readers tests: registered readers with known (fictitious, valid) identities."""

from __future__ import annotations

import pytest

from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor, register_reader

# Valid checksums, real Zhejiang region codes, clearly made-up people.
ALICE_ID = "330106199001010026"  # female, born 1990-01-01, 西湖区
BOB_ID = "33020319850715001X"  # male (sequence 001: odd)
ALICE = {
    "id_number": ALICE_ID,
    "name": "林晓雨",
    "phone": "13812345678",
    "password": "read-more-books-7",
}
BOB = {
    "id_number": BOB_ID,
    "name": "王大卫",
    "phone": "13987654321",
    "password": "read-more-books-8",
}


@pytest.fixture
def alice(db) -> Reader:
    return register_reader(**ALICE)


@pytest.fixture
def bob(db) -> Reader:
    return register_reader(**BOB)


@pytest.fixture
def alice_actor(alice):
    return reader_actor(alice)
