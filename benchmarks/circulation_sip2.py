"""``xinyue bench circulation --kiosks 32 --items 20 --json``: check-outs and check-ins per second
from concurrent self-service kiosks over SIP2 (DESIGN §9, issue 10).

Setup (on the configured database, ideally a scratch one): one member library (西湖区, 330106)
with a local rule that lets a reader hold many books, one kiosk account, ``kiosks`` readers with
a card there, and ``kiosks × items`` fresh local books (new barcodes each run).

It starts ``xinyue sip2`` as a separate process on 127.0.0.1 (``--port``), then:

1. ``ours``: ``kiosks`` connections at once (asyncio, one reader each) log in, check out all
   their books (11 → 12), then check them all in (09 → 10); each message waits for its reply,
   as a kiosk does.
2. ``baseline``: one kiosk doing the same with ``items`` books — what a library gets from a
   server that handles one kiosk at a time.

Figures: check-outs and check-ins per second (wall clock of the phase), p50/p99 of a message's
round trip, refusals and errors. Progress to stderr; the last line is one JSON object.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from typing import Any

from django.db import connection
from stdnum.cn import ric

from xinyue.cards.models import Card
from xinyue.catalog.models import Title
from xinyue.circulation.models import CirculationRule, Item, Loan, Program
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import register_reader
from xinyue.sip2.codec import FIXED_LENGTHS, decode, encode, transaction_date
from xinyue.sip2.models import KioskAccount
from xinyue.sip2.services import create_kiosk_account

LIBRARY = "330106"
LOGIN, PASSWORD = "bench-kiosk", "bench-kiosk-pass"
CHARSET = "gbk"


def _log(stderr: Any, text: str) -> None:
    stderr.write(text + "\n")
    stderr.flush()


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return 0.0
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def _id_number(n: int) -> str:
    body = f"33010619850101{n % 1000:03d}"
    return body + ric.calc_check_digit(body + "0")


def setup(*, kiosks: int, items: int, tag: str, stderr: Any) -> tuple[list[str], list[list[str]]]:
    """Card numbers of the kiosks' readers and, per reader, the barcodes of fresh books."""
    library = Library.objects.get(code=LIBRARY)
    CirculationRule.objects.get_or_create(
        library=library,
        reader_category="",
        item_type="",
        program=Program.LOCAL,
        defaults={
            "loan_days": 30,
            "renewals": 1,
            "renewal_grace_days": 0,
            "max_open_loans": 10_000,
            "compensation_factor_permille": 1000,
            "compensation_fee_fen": 0,
        },
    )
    if not KioskAccount.objects.filter(login=LOGIN).exists():
        create_kiosk_account(
            actor=SYSTEM, library=library, login=LOGIN, password=PASSWORD, charset=CHARSET
        )
    cards = []
    for n in range(kiosks):
        number = f"BENCH{tag}{n:04d}"
        card = Card.objects.filter(library=library, number=number).first()
        if card is None:
            index = Reader.objects.count() + 500
            reader = register_reader(
                id_number=_id_number(index),
                name="测试读者",
                phone=f"137{index:08d}",
                password="read-more-books-7",
            )
            Card.objects.create(
                reader=reader,
                library=library,
                number=number,
                kind=Card.Kind.DEPOSIT,
                issued_at=clock.now(),
            )
        cards.append(number)
    title, _created = Title.objects.get_or_create(
        isbn13="9787020002207", defaults={"title": "红楼梦", "list_price_fen": 5990}
    )
    run = f"{int(time.time()) % 100000:05d}"
    barcodes = [[f"S{tag}{run}-{n:03d}-{i:03d}" for i in range(items)] for n in range(kiosks)]
    Item.objects.bulk_create(
        Item(
            barcode=barcode,
            title=title,
            program=Program.LOCAL,
            owning_library=library,
            current_library=library,
            list_price_fen=5990,
            acquired_on=clock.today(),
        )
        for per_reader in barcodes
        for barcode in per_reader
    )
    _log(stderr, f"setup: {kiosks} readers, {kiosks * items} books at {library.name}")
    return cards, barcodes


class Kiosk:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer, self.sequence = reader, writer, 0

    async def ask(self, body: str) -> tuple[str, str, float]:
        """(command, ok flag, milliseconds)."""
        data = encode(body, encoding=CHARSET, sequence=self.sequence)
        self.sequence = (self.sequence + 1) % 10
        started = time.perf_counter()
        self.writer.write(data)
        await self.writer.drain()
        raw = await self.reader.readuntil(b"\r")
        elapsed = (time.perf_counter() - started) * 1000
        command = raw[:2].decode("ascii", "replace")
        message = decode(raw, encoding=CHARSET, fixed_length=FIXED_LENGTHS.get(command, 0))
        return command, message.fixed[:1], elapsed


async def _kiosk_run(
    kiosk: Kiosk, card: str, books: list[str], template: str, stats: dict[str, Any]
) -> None:
    for barcode in books:
        body = template.format(date=transaction_date(), blank=" " * 18, card=card, barcode=barcode)
        try:
            _command, ok, ms = await kiosk.ask(body)
        except (ConnectionError, asyncio.IncompleteReadError):
            stats["errors"] += 1
            return
        stats["latencies"].append(ms)
        if ok != "1":
            stats["refused"] += 1


async def _phase(port: int, cards: list[str], barcodes: list[list[str]]) -> dict[str, Any]:
    kiosks = []
    for _card in cards:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        kiosk = Kiosk(reader, writer)
        command, ok, _ms = await kiosk.ask(f"9300CN{LOGIN}|CO{PASSWORD}|CPbench|")
        if (command, ok) != ("94", "1"):
            raise RuntimeError("the bench kiosk could not log in")
        kiosks.append(kiosk)
    result: dict[str, Any] = {}
    for name, template in (
        ("checkout", "11NN{date}{blank}AO|AA{card}|AB{barcode}|"),
        ("checkin", "09N{date}{date}APbench|AO|AB{barcode}|"),
    ):
        stats: dict[str, Any] = {"latencies": [], "refused": 0, "errors": 0}
        started = time.perf_counter()
        await asyncio.gather(
            *(
                _kiosk_run(k, c, b, template, stats)
                for k, c, b in zip(kiosks, cards, barcodes, strict=True)
            )
        )
        seconds = time.perf_counter() - started
        latencies = stats["latencies"]
        result[name] = {
            "per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
            "p50_ms": _percentile(latencies, 0.5),
            "p99_ms": _percentile(latencies, 0.99),
            "messages": len(latencies),
            "refused": stats["refused"],
            "errors": stats["errors"],
        }
    for kiosk in kiosks:
        kiosk.writer.close()
    return result


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("xinyue sip2 exited")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("xinyue sip2 did not start")


def run(*, kiosks: int, items: int, port: int, threads: int, stderr: Any) -> dict:
    cards, barcodes = setup(kiosks=kiosks, items=items, tag="K", stderr=stderr)
    base_cards, base_barcodes = setup(kiosks=1, items=items, tag="B", stderr=stderr)
    command = [sys.executable, "-m", "xinyue.manage", "sip2", "--port", str(port)]
    server = subprocess.Popen(
        [*command, "--threads", str(threads)],
        env=os.environ.copy(),
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_port(port, server)
        _log(stderr, f"ours: {kiosks} kiosks × {items} books")
        ours = asyncio.run(_phase(port, cards, barcodes))
        _log(stderr, f"baseline: one kiosk × {items} books")
        baseline = asyncio.run(_phase(port, base_cards[:1], base_barcodes[:1]))
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
    open_left = Loan.objects.filter(
        item__barcode__in=[b for books in barcodes for b in books], status=Loan.Status.ON_LOAN
    ).count()
    return {
        "bench": "circulation",
        "part": "sip2",
        "db": connection.vendor,
        "kiosks": kiosks,
        "items_per_kiosk": items,
        "server_threads": threads,
        "ours": ours,
        "baseline": {"name": "one kiosk at a time", **baseline},
        "loans_left_open": open_left,
    }


def main(
    *,
    kiosks: int,
    items: int,
    port: int,
    threads: int,
    as_json: bool,
    stdout: Any,
    stderr: Any,
) -> dict:
    result = run(kiosks=kiosks, items=items, port=port, threads=threads, stderr=stderr)
    if not as_json:
        ours, base = result["ours"], result["baseline"]
        stdout.write(
            f"SIP2 ({result['db']}, {kiosks} kiosks): check-outs {ours['checkout']['per_s']}/s "
            f"(p99 {ours['checkout']['p99_ms']} ms), check-ins {ours['checkin']['per_s']}/s "
            f"(p99 {ours['checkin']['p99_ms']} ms); one kiosk: "
            f"{base['checkout']['per_s']}/s and {base['checkin']['per_s']}/s\n"
        )
    stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result
