"""Background bodies of the readers app: sending a message through an extra sender."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.retries import retry_later
from xinyue.readers.services.messages import attempt_message_delivery, message_backoff


@task()
def deliver_message(delivery_id: int) -> None:
    retry = attempt_message_delivery(delivery_id=delivery_id)
    if retry is not None:
        retry_later(
            deliver_message,
            backoff=message_backoff(),
            failures=retry.attempts,
            delivery_id=delivery_id,
        )
