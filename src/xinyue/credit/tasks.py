"""Background bodies of the credit app (thin: the rules live in services and the sandbox)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from xinyue.core import clock


@task()
def deliver_sandbox_notification(notification_id: int) -> None:
    """The sandbox gateway sending one notification, re-enqueued with Alipay's back-off."""
    from xinyue.credit.sandbox.gateway import attempt_notification

    delay = attempt_notification(notification_id=notification_id)
    if delay is not None:
        run_after = clock.now() + dt.timedelta(seconds=delay)
        deliver_sandbox_notification.using(run_after=run_after).enqueue(
            notification_id=notification_id
        )


@task()
def finish_credit_order(order_id: int) -> None:
    """Finish a credit order's pending provider call (after a timeout or an outage)."""
    from xinyue.credit.services.orders import retry_pending_operation

    delay = retry_pending_operation(order_id=order_id)
    if delay is not None:
        run_after = clock.now() + dt.timedelta(seconds=delay)
        finish_credit_order.using(run_after=run_after).enqueue(order_id=order_id)
