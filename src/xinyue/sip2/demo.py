"""Demo kiosk accounts (``xinyue seed-demo``): one GBK kiosk at 杭州图书馆 and one UTF-8 kiosk at
宁波图书馆, so a SIP2 client can log in to ``xinyue sip2`` (port 6001 under ``make run``) at once."""

from __future__ import annotations

from typing import Any

from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.sip2.models import Charset, KioskAccount
from xinyue.sip2.services import create_kiosk_account

KIOSK_PASSWORD = "kiosk-demo-2026"
KIOSKS = (
    ("330100", "hz-kiosk-1", Charset.GBK, "HZ-LOBBY"),
    ("330200", "nb-kiosk-1", Charset.UTF8, "NB-LOBBY"),
)


def seed(*, options: dict[str, Any], stdout: Any) -> list[tuple[str, str, str]]:
    credentials = []
    for code, login, charset, location in KIOSKS:
        library = Library.objects.filter(code=code).first()
        if library is None:
            continue
        if not KioskAccount.objects.filter(login=login).exists():
            create_kiosk_account(
                actor=SYSTEM,
                library=library,
                login=login,
                password=KIOSK_PASSWORD,
                charset=charset,
                location_code=location,
            )
        credentials.append((f"SIP2 kiosk @ {library.name} ({charset})", login, KIOSK_PASSWORD))
    stdout.write(f"demo kiosks ready ({len(credentials)} SIP2 accounts)")
    return credentials
