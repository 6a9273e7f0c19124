"""Known (fictitious, valid) reader identities for tests; the ``alice``/``bob`` fixtures in the
root ``conftest.py`` register them."""

from __future__ import annotations

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
