"""``xinyue bench <name> --json``: the benchmarks of DESIGN §9 (code in the ``benchmarks/``
directory of the source tree). Progress goes to stderr; the last line of stdout is one JSON
object with our figures under "ours" and the side-by-side baseline under "baseline".

Run it against a scratch database, e.g.
``DATABASE_URL=sqlite:///var/bench.sqlite3 xinyue bench search --titles 1000000 --json``.
"""

from __future__ import annotations

import sys
from importlib import import_module
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

import xinyue


def load_benchmark(name: str) -> Any:
    root = Path(xinyue.__file__).resolve().parents[2]
    if not (root / "benchmarks" / f"{name}.py").exists():
        raise CommandError(
            f"benchmark {name!r} not found: run from a source checkout (benchmarks/{name}.py)"
        )
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    return import_module(f"benchmarks.{name}")


class Command(BaseCommand):
    help = "Run a benchmark of DESIGN §9 and print its figures (last line: one JSON object)."

    def add_arguments(self, parser: Any) -> None:
        subcommands = parser.add_subparsers(dest="bench", required=True)
        search = subcommands.add_parser("search", help="catalog search at N titles")
        search.add_argument("--titles", type=int, default=100_000)
        search.add_argument("--rounds", type=int, default=5, help="runs of the query set")
        search.add_argument(
            "--naive-queries", type=int, default=24, help="queries run through icontains"
        )
        search.add_argument("--json", action="store_true", help="print only the JSON line")
        orders = subcommands.add_parser("orders", help="ordering under contention (oversell)")
        orders.add_argument("--clients", type=int, default=32)
        orders.add_argument("--orders", type=int, default=4000, help="orders per phase")
        orders.add_argument("--no-http", action="store_true", help="skip the HTTP phase")
        orders.add_argument("--port", type=int, default=8550, help="port of the HTTP phase")
        orders.add_argument("--workers", type=int, default=2, help="web server processes")
        orders.add_argument("--threads", type=int, default=4, help="threads per process")
        orders.add_argument(
            "--processes",
            type=int,
            default=settings.XINYUE_WEB_WORKERS,
            help="also run the service phase with the clients split over N processes (1: skip)",
        )
        orders.add_argument(
            "--idempotency-keys",
            action="store_true",
            help="the HTTP phase sends an Idempotency-Key with every order (a new key each)",
        )
        orders.add_argument("--json", action="store_true", help="print only the JSON line")
        http = subcommands.add_parser("http", help="reader traffic over HTTP beside the ceiling")
        http.add_argument("--seconds", type=int, default=30, help="total load, split over kinds")
        http.add_argument("--concurrency", type=int, default=32, help="open connections")
        http.add_argument("--url", default=None, help="target a running server instead")
        http.add_argument("--reader", default=None, help="with --url: a reader's ID number")
        http.add_argument("--password", default=None, help="with --url: that reader's password")
        http.add_argument("--titles", type=int, default=None, help="top the catalog up to N")
        http.add_argument("--workers", type=int, default=settings.XINYUE_WEB_WORKERS)
        http.add_argument("--threads", type=int, default=settings.XINYUE_WEB_THREADS)
        http.add_argument("--port", type=int, default=None, help="port of the started server")
        http.add_argument("--json", action="store_true", help="print only the JSON line")
        circulation = subcommands.add_parser(
            "circulation",
            help="check-outs and check-ins per second from SIP2 kiosks and over the desk API",
        )
        circulation.add_argument("--part", choices=["all", "sip2", "api"], default="all")
        circulation.add_argument("--clients", type=int, default=32, help="API desk clients")
        circulation.add_argument(
            "--api-port", type=int, default=None, help="port of the web server"
        )
        circulation.add_argument("--workers", type=int, default=settings.XINYUE_WEB_WORKERS)
        circulation.add_argument("--web-threads", type=int, default=settings.XINYUE_WEB_THREADS)
        circulation.add_argument("--kiosks", type=int, default=32)
        circulation.add_argument("--items", type=int, default=20, help="books per kiosk")
        circulation.add_argument("--port", type=int, default=8560, help="port of xinyue sip2")
        circulation.add_argument("--threads", type=int, default=8, help="SIP2 server threads")
        circulation.add_argument("--json", action="store_true", help="print only the JSON line")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["bench"] == "http" and options["url"]:
            load_benchmark("http").main(
                as_json=options["json"], stdout=self.stdout, stderr=self.stderr,
                **_http_options(options),
            )  # fmt: skip
            return
        call_command("migrate", verbosity=0)
        if options["bench"] == "search":
            module = load_benchmark("search")
            module.main(
                titles=options["titles"],
                rounds=options["rounds"],
                naive_queries=options["naive_queries"],
                as_json=options["json"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
        elif options["bench"] == "http":
            load_benchmark("http").main(
                as_json=options["json"], stdout=self.stdout, stderr=self.stderr,
                **_http_options(options),
            )  # fmt: skip
        elif options["bench"] == "circulation":
            load_benchmark("circulation_api").main(
                part=options["part"],
                sip2_options={
                    "kiosks": options["kiosks"],
                    "items": options["items"],
                    "port": options["port"],
                    "threads": options["threads"],
                },
                api_options={
                    "clients": options["clients"],
                    "items": options["items"],
                    "port": options["api_port"],
                    "workers": options["workers"],
                    "threads": options["web_threads"],
                },
                as_json=options["json"],
                stdout=self.stdout,
                stderr=self.stderr,
            )
        elif options["bench"] == "orders":
            load_benchmark("orders").main(
                clients=options["clients"],
                orders=options["orders"],
                http=not options["no_http"],
                port=options["port"],
                workers=options["workers"],
                threads=options["threads"],
                processes=options["processes"],
                idempotency_keys=options["idempotency_keys"],
                as_json=options["json"],
                stdout=self.stdout,
                stderr=self.stderr,
            )


def _http_options(options: dict[str, Any]) -> dict[str, Any]:
    names = ("seconds", "concurrency", "url", "titles", "workers", "threads", "port")
    return {name: options[name] for name in (*names, "reader", "password")}
