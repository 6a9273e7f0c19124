"""Helpers for the card tests: member-library systems on loopback ports, and the real flows that
put a reader in a given state (admitted through the credit services, reviewed by a library)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from xinyue.cards.models import ManualReview
from xinyue.cards.services.issuing import approve_manual_review, request_manual_review
from xinyue.core.actors import Actor
from xinyue.libraries.models import Library
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor


class HttpPeer:
    """A library system on a loopback port: records each POST and answers with ``respond``
    (``body bytes, headers -> (status, json-able)``)."""

    def __init__(self, respond: Callable[[bytes, dict[str, str]], tuple[int, Any]]) -> None:
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
        self.url = f"http://127.0.0.1:{self.server.server_port}/verify"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def webhook_sink() -> HttpPeer:
    return HttpPeer(lambda body, headers: (204, b""))


def approved_review(reader: Reader, library: Library, staff: Actor) -> ManualReview:
    """The reader asks ``library`` for a manual review and its staff approve it."""
    review = request_manual_review(actor=reader_actor(reader), reader=reader, library=library)
    return approve_manual_review(actor=staff, review=review, note="到馆核验")
