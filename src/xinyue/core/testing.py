"""Helpers for tests: the real background-work machinery (Huey in immediate mode), and a peer
system on a loopback port (a library's system, a webhook receiver, an SMS relay)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from huey.contrib.djhuey import HUEY


def run_scheduled_tasks(*, after: dt.timedelta = dt.timedelta(days=1)) -> int:
    """Run every task scheduled to run within ``after`` from now, as a worker would when the
    time comes; returns how many ran. Tasks they schedule in turn wait for the next call."""
    moment = HUEY._get_timestamp() + after
    due = HUEY.read_schedule(moment)
    for task in due:
        HUEY.execute(task, timestamp=moment)
    return len(due)


Respond = Callable[[bytes, dict[str, str]], tuple[int, Any]]


class LoopbackServer:
    """An HTTP peer on 127.0.0.1 and a free port: records each POST (``requests``: path, headers,
    body) and answers with ``respond(body, headers) -> (status, bytes or JSON-able)``. Use the
    ``loopback_server`` fixture, which closes it; closing takes milliseconds, not the 0.5 s of
    ``serve_forever``'s default poll."""

    POLL_SECONDS = 0.01

    def __init__(self, respond: Respond, *, path: str = "/") -> None:
        self.requests: list[dict[str, Any]] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = dict(self.headers)
                peer.requests.append({"path": self.path, "headers": headers, "body": body})
                status, answer = respond(body, headers)
                data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}{path}"
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": self.POLL_SECONDS},
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
