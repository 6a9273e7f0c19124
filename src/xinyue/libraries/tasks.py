"""Background bodies for libraries: webhook delivery (retried by re-enqueueing with a delay)."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.retries import retry_later
from xinyue.libraries.services import attempt_webhook_delivery, webhook_backoff


@task()
def deliver_webhook(delivery_id: int) -> None:
    retry = attempt_webhook_delivery(delivery_id=delivery_id)
    if retry is not None:
        retry_later(
            deliver_webhook,
            backoff=webhook_backoff(),
            failures=retry.attempts,
            delivery_id=delivery_id,
        )
