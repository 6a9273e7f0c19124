"""Demo readers (idempotent). Their ID numbers pass the GB 11643 checksum and region check but
are made up: born on 1 January of a round year, sequence numbers 90x, names 演示读者…

Other apps' demo code finds them through ``DEMO_READERS`` (``reader_by_id_number``): the credit
app admits "admitted" readers (sandbox score 600) and refuses "refused" (549); the cards app gives
cards to the admitted ones. "new" is left as a fresh registration to try the whole flow.
"""

from __future__ import annotations

from typing import Any

from xinyue.readers.models import Reader
from xinyue.readers.selectors import reader_by_id_number
from xinyue.readers.services.consents import grant_consent
from xinyue.readers.services.identity import reader_actor, register_reader

DEMO_PASSWORD = "xinyue-demo-2026"

# key, ID number, name, phone, consents beyond id_number
DEMO_READERS = [
    (
        "admitted",
        "330106199001019012",
        "演示读者甲",
        "13800000001",
        ["credit_check", "share_borrowing"],
    ),
    (
        "admitted",
        "330203198501019029",
        "演示读者乙",
        "13800000002",
        ["credit_check", "share_borrowing"],
    ),
    ("refused", "33030220000101903X", "演示读者丙", "13800000003", ["credit_check"]),
    ("new", "330482199501019046", "演示读者丁", "13800000004", []),
]


def demo_reader(key: str) -> list[Reader]:
    """The demo readers of one kind ("admitted", "refused", "new"), for other apps' demo code."""
    found = []
    for k, number, *_rest in DEMO_READERS:
        if k == key:
            reader = reader_by_id_number(id_number=number)
            if reader is not None:
                found.append(reader)
    return found


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    credentials = []
    for key, number, name, phone, consents in DEMO_READERS:
        reader = reader_by_id_number(id_number=number)
        if reader is None:
            reader = register_reader(
                id_number=number, name=name, phone=phone, password=DEMO_PASSWORD
            )
            for purpose in consents:
                grant_consent(actor=reader_actor(reader), reader=reader, purpose=purpose)
            stdout.write(f"demo reader {name} ({key}) registered")
        credentials.append((f"reader ({key})", number, DEMO_PASSWORD))
    return credentials
