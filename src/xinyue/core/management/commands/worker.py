"""``xinyue worker``: run background work (Django tasks and schedules) through Huey's consumer."""

from __future__ import annotations

from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run a background worker. Several may run at once; each job runs once."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--workers", type=int, default=2, help="threads in this worker")
        parser.add_argument(
            "--no-periodic", action="store_true", help="do not fire the schedules here"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        from huey.contrib.djhuey import HUEY

        HUEY.storage.initialize_schema()  # idempotent; the queue may be new
        argv = ["--workers", str(options["workers"]), "--worker-type", "thread"]
        if options["no_periodic"]:
            argv.append("--no-periodic")
        call_command("run_huey", *argv)
