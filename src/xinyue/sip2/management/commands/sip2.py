"""``xinyue sip2 --port 6001``: the SIP2 server for the member libraries' self-service kiosks."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from xinyue.sip2.server import ServerOptions, run


class Command(BaseCommand):
    help = "Run the SIP2 server for self-service kiosks until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.SIP2_HOST)
        parser.add_argument("--port", type=int, default=settings.SIP2_PORT)
        parser.add_argument("--threads", type=int, default=settings.SIP2_THREADS)
        parser.add_argument(
            "--idle-timeout", type=float, default=settings.SIP2_IDLE_TIMEOUT_SECONDS
        )

    def handle(self, *args: Any, **options: Any) -> None:
        run(
            ServerOptions(
                host=options["host"],
                port=options["port"],
                threads=options["threads"],
                idle_timeout=options["idle_timeout"],
            ),
            announce=self._announce,
        )

    def _announce(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()
