"""``xinyue serve``: the production web server (Granian, WSGI), as ``xinyue up`` runs it."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand

from xinyue.core.server import web_command


class Command(BaseCommand):
    help = "Run the web server (Granian over WSGI); slow clients cost a socket, never a worker."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=os.environ.get("XINYUE_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("XINYUE_PORT", "8000")))
        parser.add_argument(
            "--workers", type=int, default=int(os.environ.get("XINYUE_WEB_WORKERS", "2"))
        )
        parser.add_argument(
            "--threads", type=int, default=int(os.environ.get("XINYUE_WEB_THREADS", "4"))
        )
        parser.add_argument("--no-access-log", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        command = web_command(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=options["threads"],
            access_log=not options["no_access_log"],
        )
        os.execv(command[0], command)  # the server replaces this process (signals reach it)
