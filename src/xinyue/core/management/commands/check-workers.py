"""``xinyue check-workers``: enqueue probe jobs and wait until running workers have done each once."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from xinyue.core.models import AuditEntry
from xinyue.core.tasks import probe_worker


class Command(BaseCommand):
    help = "Check that background workers run: enqueue N probe jobs, wait, report per worker and duplicates."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--jobs", type=int, default=10)
        parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait")

    def handle(self, *args: Any, **options: Any) -> None:
        run = uuid.uuid4().hex[:12]
        for number in range(options["jobs"]):
            probe_worker.enqueue(run=run, number=number)
        deadline = time.monotonic() + options["timeout"]
        while True:
            rows = list(
                AuditEntry.objects.filter(
                    action="worker.probe", object_id__startswith=f"{run}:"
                ).values_list("object_id", "detail")
            )
            done = {object_id for object_id, _ in rows}
            if len(done) >= options["jobs"] or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        time.sleep(0.5)  # let a would-be duplicate land before counting
        rows = list(
            AuditEntry.objects.filter(
                action="worker.probe", object_id__startswith=f"{run}:"
            ).values_list("object_id", "detail")
        )
        executions = Counter(object_id for object_id, _ in rows)
        report = {
            "jobs": options["jobs"],
            "done": len(executions),
            "duplicates": sum(count - 1 for count in executions.values()),
            "by_worker_pid": dict(Counter(str(detail.get("pid")) for _, detail in rows)),
        }
        self.stdout.write(json.dumps(report))
        if report["done"] < report["jobs"]:
            raise CommandError(
                f"only {report['done']} of {report['jobs']} probe jobs ran: are workers running?"
            )
