"""``xinyue up``: migrate, seed the demo on an empty database, run web + worker + the SIP2 server
for kiosks until Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand

from xinyue.core import server


def public_url_for(bind: str, environ: Mapping[str, str]) -> str:
    """``XINYUE_PUBLIC_URL`` when set, else the address the server binds (``http://host:port``)."""
    configured = (environ.get("XINYUE_PUBLIC_URL") or "").strip().rstrip("/")
    if configured:
        return configured
    host, _sep, port = bind.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    return f"http://{host}:{port}"


class Command(BaseCommand):
    help = "Set up the database and run the platform (web server + background worker) until Ctrl-C."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default=settings.XINYUE_HOST)
        parser.add_argument("--port", type=int, default=settings.XINYUE_PORT)
        parser.add_argument("--web-workers", type=int, default=settings.XINYUE_WEB_WORKERS)
        parser.add_argument(
            "--sip2-port", type=int, default=settings.SIP2_PORT, help="0: no SIP2 server"
        )
        parser.add_argument(
            "--no-seed", action="store_true", help="do not load demo data into an empty database"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        bind = f"{options['host']}:{options['port']}"
        # Links we send out (provider return and notify URLs, webhooks) follow the bound address
        # unless XINYUE_PUBLIC_URL says otherwise; the children read it from the environment.
        public_url = public_url_for(bind, os.environ)
        os.environ["XINYUE_PUBLIC_URL"] = settings.PUBLIC_BASE_URL = public_url
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("database ready")
        User = get_user_model()  # accounts.User: core names no app above it
        if not options["no_seed"] and not User.objects.filter(kind="operator").exists():
            call_command("seed-demo", stdout=self.stdout)
        web_command = server.web_command(
            host=options["host"], port=options["port"], workers=options["web_workers"]
        )
        # Each child leads its own process group, so that a child that will not stop is killed with
        # every process it started (the web server's worker processes included).
        children = {
            "web": subprocess.Popen(web_command, start_new_session=True),
            "worker": self._start_worker(),
        }
        if options["sip2_port"]:
            # The kiosks' SIP2 server; if it stops (its port taken), the site keeps serving.
            children["sip2"] = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "xinyue.manage",
                    "sip2",
                    "--port",
                    str(options["sip2_port"]),
                ],
                start_new_session=True,
            )
        self.stdout.write(
            self.style.SUCCESS(f"信阅 is running at http://{bind}/  (Ctrl-C stops everything)")
        )
        stopping = False
        worker_restarts: list[float] = []

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                if children["web"].poll() is not None:
                    code = children["web"].returncode
                    self.stderr.write(f"web server exited with status {code}; stopping")
                    stopping = True
                elif children["worker"].poll() is not None:
                    # Background jobs wait in the queue; the site keeps serving. Restart, slower
                    # when it keeps dying (at most 5 restarts a minute).
                    code = children["worker"].returncode
                    now = time.monotonic()
                    worker_restarts = [t for t in worker_restarts if now - t < 60]
                    delay = 0 if len(worker_restarts) < 5 else 10
                    self.stderr.write(
                        f"worker exited with status {code}; restarting it"
                        + (f" in {delay} s" if delay else "")
                    )
                    time.sleep(delay)
                    worker_restarts.append(time.monotonic())
                    children["worker"] = self._start_worker()
                time.sleep(0.3)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children.values():
                with contextlib.suppress(subprocess.TimeoutExpired):
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(child.pid, signal.SIGKILL)  # it, or a process it left behind
                child.wait()
            self.stdout.write("stopped")

    def _start_worker(self) -> subprocess.Popen:
        worker = subprocess.Popen(
            [sys.executable, "-m", "xinyue.manage", "worker"], start_new_session=True
        )
        self.stdout.write(f"worker started (pid {worker.pid})")
        self.stdout.flush()
        return worker
