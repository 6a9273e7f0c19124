"""``xinyue sandbox-gateway``: the credit sandbox gateway on its own port.

Point the platform at it with ``XINYUE_SANDBOX_GATEWAY_URL=http://HOST:PORT/sandbox/zhima/gateway.do``.
It shares the platform's data directory (keys) and database (its own ``sandbox_zhima_*`` tables);
its notifications go out through the task queue, so a ``xinyue worker`` must run (``xinyue up``
runs one).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from xinyue.credit import conf


class Command(BaseCommand):
    help = "Run the credit sandbox gateway (Zhima wire protocol) alone on a port."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8100)

    def handle(self, *args: Any, **options: Any) -> None:
        from xinyue.credit.sandbox.server import make_server

        conf.ensure_sandbox_keys()
        server = make_server(options["host"], options["port"])
        host, port = server.server_address[:2]
        self.stdout.write(
            self.style.SUCCESS(
                f"sandbox gateway at http://{host}:{port}/sandbox/zhima/gateway.do (Ctrl-C stops)"
            )
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
