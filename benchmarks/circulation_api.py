"""``xinyue bench circulation``'s API part: check-outs and check-ins per second over
``POST /api/v1/desk/checkout`` and ``POST /api/v1/desk/checkin`` (DESIGN §9, issue 10).

Setup as the SIP2 part (``circulation_sip2.setup``: readers with a card at 西湖区 330106, fresh
local books each run) plus a desk API key of that library. It starts ``xinyue serve``'s command
line on 127.0.0.1 (``benchmarks/http.py``'s ``own_server``), then:

1. ``ours``: ``clients`` threads at once, one reader each, each on its own keep-alive
   connection, check out all their books, then check them all in; each request waits for its
   answer, as a library system's desk client does.
2. ``baseline``: one client doing the same with ``items`` books (one desk at a time).

The load generator is Python in this process: on a 2-core machine it competes with the server
for the CPU, so the figures are a floor. Progress to stderr.
"""

from __future__ import annotations

import http.client
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from django.db import connection

from benchmarks import circulation_sip2 as sip2
from benchmarks.http import own_server
from xinyue.accounts.services import create_api_key
from xinyue.circulation.models import Loan
from xinyue.core.actors import SYSTEM
from xinyue.libraries.models import Library


def _client_run(
    port: int, token: str, path: str, bodies: list[dict], stats: dict[str, Any], lock
) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies, refused, errors = [], 0, 0
    for body in bodies:
        started = time.perf_counter()
        try:
            conn.request("POST", path, json.dumps(body), headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        latencies.append((time.perf_counter() - started) * 1000)
        if response.status >= 300:
            refused += 1
    conn.close()
    with lock:
        stats["latencies"] += latencies
        stats["refused"] += refused
        stats["errors"] += errors


def _phase(port: int, token: str, cards: list[str], barcodes: list[list[str]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for name, path, body in (
        ("checkout", "/api/v1/desk/checkout", lambda c, b: {"card_number": c, "barcode": b}),
        ("checkin", "/api/v1/desk/checkin", lambda c, b: {"barcode": b}),
    ):
        stats: dict[str, Any] = {"latencies": [], "refused": 0, "errors": 0}
        lock = threading.Lock()
        threads = [
            threading.Thread(
                target=_client_run,
                args=(port, token, path, [body(card, b) for b in books], stats, lock),
            )
            for card, books in zip(cards, barcodes, strict=True)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        seconds = time.perf_counter() - started
        latencies = stats["latencies"]
        result[name] = {
            "per_s": round(len(latencies) / seconds, 1) if seconds else 0.0,
            "p50_ms": sip2._percentile(latencies, 0.5),
            "p99_ms": sip2._percentile(latencies, 0.99),
            "requests": len(latencies),
            "refused": stats["refused"],
            "errors": stats["errors"],
        }
    return result


def run(
    *, clients: int, items: int, port: int | None, workers: int, threads: int, stderr: Any
) -> dict:
    cards, barcodes = sip2.setup(kiosks=clients, items=items, tag="A", stderr=stderr)
    base_cards, base_barcodes = sip2.setup(kiosks=1, items=items, tag="C", stderr=stderr)
    library = Library.objects.get(code=sip2.LIBRARY)
    _key, token = create_api_key(
        actor=SYSTEM, name="bench desk", scope="library", library=library, role="desk"
    )
    with (
        tempfile.TemporaryDirectory() as log_dir,
        own_server(
            port=port, workers=workers, threads=threads, log_dir=Path(log_dir), stderr=stderr
        ) as (base, _pid),
    ):
        server_port = int(base.rsplit(":", 1)[1])
        sip2._log(stderr, f"api ours: {clients} clients × {items} books")
        ours = _phase(server_port, token, cards, barcodes)
        sip2._log(stderr, f"api baseline: one client × {items} books")
        baseline = _phase(server_port, token, base_cards[:1], base_barcodes[:1])
    open_left = Loan.objects.filter(
        item__barcode__in=[b for books in barcodes for b in books], status=Loan.Status.ON_LOAN
    ).count()
    return {
        "db": connection.vendor,
        "clients": clients,
        "items_per_client": items,
        "server": {"workers": workers, "threads": threads},
        "ours": ours,
        "baseline": {"name": "one desk client at a time", **baseline},
        "loans_left_open": open_left,
    }


def main(*, part: str, sip2_options: dict, api_options: dict, as_json: bool, stdout, stderr):
    """Run the SIP2 part, the API part or both; one JSON object on the last line: the SIP2
    figures at the top (as before) and the API's under ``"api"``."""
    result: dict[str, Any] = {"bench": "circulation", "db": connection.vendor}
    if part in ("all", "sip2"):
        result = sip2.run(**sip2_options, stderr=stderr)
        result["part"] = part
    if part in ("all", "api"):
        result["api"] = run(**api_options, stderr=stderr)
        result["part"] = part
    if not as_json:
        if "ours" in result:
            ours = result["ours"]
            stdout.write(
                f"SIP2 ({result['db']}): check-outs {ours['checkout']['per_s']}/s, "
                f"check-ins {ours['checkin']['per_s']}/s\n"
            )
        if "api" in result:
            ours = result["api"]["ours"]
            stdout.write(
                f"API ({result['db']}, {result['api']['clients']} clients): check-outs "
                f"{ours['checkout']['per_s']}/s (p99 {ours['checkout']['p99_ms']} ms), check-ins "
                f"{ours['checkin']['per_s']}/s (p99 {ours['checkin']['p99_ms']} ms)\n"
            )
    stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    return result
