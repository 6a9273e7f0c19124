"""Helpers for tests that drive the real machinery: background work (Huey in immediate mode),
a peer system on a loopback port (a library's system, a webhook receiver, an SMS relay) and a real
web server process."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
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


@dataclass
class WebServer:
    base_url: str
    port: int
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_for_log(self, *texts: str, timeout: float = 10) -> str:
        """The log once every one of ``texts`` appears in it, or when ``timeout`` runs out. Each
        worker writes its access line after its answer, so lines can land out of order: waiting
        for the last request's line alone does not mean the others are there."""
        deadline = time.monotonic() + timeout
        while True:
            log = self.log()
            if all(text in log for text in texts) or time.monotonic() >= deadline:
                return log
            time.sleep(0.1)


def http_get(url: str, timeout: float) -> tuple[int, bytes]:
    """GET ``url`` (loopback only); the status and body, also for error statuses."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


@contextlib.contextmanager
def running_web_server(
    data_dir: Path, *, access_log: bool = False, env: dict[str, str] | None = None
) -> Iterator[WebServer]:
    """Start ``xinyue serve``'s exact command line on a free loopback port with its own data
    directory (SQLite), wait until health answers, and stop it afterwards."""
    from xinyue.core.server import web_command

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    environment.update(XINYUE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="xinyue.settings")
    # An unmigrated database: nothing that needs tables (rate-limit counters) on the way.
    environment.update(XINYUE_API_RATE_ANONYMOUS="", XINYUE_API_RATE_AUTHENTICATED="")
    environment.update(env or {})
    log_path = data_dir / "server.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            web_command(host="127.0.0.1", port=port, workers=2, access_log=access_log),
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its worker processes die with it (killpg below)
        )
        server = WebServer(base_url=f"http://127.0.0.1:{port}", port=port, log_path=log_path)
        try:
            deadline = time.monotonic() + 90
            while True:
                try:
                    http_get(f"{server.base_url}/api/v1/health", timeout=2)
                    break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"web server did not start:\n{server.log()}") from None
                    time.sleep(0.2)
            yield server
        finally:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=15)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)  # it, or any worker it left behind
            process.wait()
