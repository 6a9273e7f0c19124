"""``xinyue up``: migrate, seed the demo on an empty database, run web + worker until Ctrl-C."""

from __future__ import annotations

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
        python = sys.executable
        children = {
            "web": subprocess.Popen(
                [
                    python, "-m", "gunicorn", "xinyue.wsgi:application",
                    "--bind", bind, "--workers", str(options["web_workers"]),
                    "--access-logfile", "-", "--graceful-timeout", "5", "--timeout", "60",
                ]
            ),
            "worker": subprocess.Popen([python, "-m", "xinyue.manage", "worker"]),
        }  # fmt: skip
        self.stdout.write(
            self.style.SUCCESS(f"信阅 is running at http://{bind}/  (Ctrl-C stops everything)")
        )
        stopping = False

        def stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, child in children.items():
                    if child.poll() is not None:
                        self.stderr.write(f"{name} exited with status {child.returncode}; stopping")
                        stopping = True
                time.sleep(0.3)
        finally:
            for child in children.values():
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for child in children.values():
                try:
                    child.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    child.kill()
            self.stdout.write("stopped")
