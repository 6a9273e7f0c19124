"""Background bodies for suppliers: webhook delivery (retried by re-enqueueing with a delay)."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.retries import retry_later
from xinyue.core.webhooks import webhook_backoff
from xinyue.suppliers.services import attempt_supplier_webhook_delivery


@task()
def deliver_supplier_webhook(delivery_id: int) -> None:
    retry = attempt_supplier_webhook_delivery(delivery_id=delivery_id)
    if retry is not None:
        retry_later(
            deliver_supplier_webhook,
            backoff=webhook_backoff(),
            failures=retry.attempts,
            delivery_id=delivery_id,
        )
