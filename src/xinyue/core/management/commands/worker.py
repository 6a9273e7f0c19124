"""``xinyue worker``: run background work (Django tasks and schedules) through Huey's consumer."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background worker. Several may run at once; each job runs once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=2, help="threads in this worker")
        parser.add_argument(
            "--no-periodic", action="store_true", help="do not fire the schedules here"
        )
        parser.add_argument(
            "--nice",
            type=int,
            choices=range(20),
            metavar="0-19",
            default=settings.XINYUE_WORKER_NICE,
            help="run this much below the web server's CPU priority (default XINYUE_WORKER_NICE)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        # Below the web server: a burst of jobs (a rush of orders' credit orders) waits in the
        # queue while readers' requests have the cores; idle cores still run it at full speed.
        os.nice(options["nice"])
        HUEY.storage.initialize_schema()  # idempotent; the queue may be new
        argv = ["--workers", str(options["workers"]), "--worker-type", "thread"]
        if options["no_periodic"]:
            argv.append("--no-periodic")
        call_command("run_huey", *argv)
