"""Background bodies for libraries: webhook delivery (retried by re-enqueueing with a delay)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from xinyue.core import clock
from xinyue.libraries.services import attempt_webhook_delivery, retry_delay_seconds


@task()
def deliver_webhook(delivery_id: int) -> None:
    retry = attempt_webhook_delivery(delivery_id=delivery_id)
    if retry is not None:
        run_after = clock.now() + dt.timedelta(seconds=retry_delay_seconds(retry.attempts))
        deliver_webhook.using(run_after=run_after).enqueue(delivery_id=delivery_id)
