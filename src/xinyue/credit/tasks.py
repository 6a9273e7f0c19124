"""Background bodies of the credit app (thin: the rules live in services and the sandbox)."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from xinyue.core import clock
from xinyue.core.retries import retry_later
from xinyue.core.schedules import crontab, periodic


@task()
def deliver_sandbox_notification(notification_id: int) -> None:
    """The sandbox gateway sending one notification, re-enqueued with Alipay's back-off."""
    from xinyue.credit.sandbox.gateway import BACKOFF, attempt_notification

    failures = attempt_notification(notification_id=notification_id)
    if failures is not None:
        retry_later(
            deliver_sandbox_notification,
            backoff=BACKOFF,
            failures=failures,
            notification_id=notification_id,
        )


@task()
def open_authorization(authorization_id: int, attempt: int = 1) -> None:
    """Open an authorization at a provider that was too slow while the reader waited."""
    from xinyue.credit.services.authorizations import open_pending_authorization

    open_pending_authorization(authorization_id=authorization_id, attempt=attempt)


@task()
def finish_credit_order(order_id: int) -> None:
    """Finish a credit order's pending provider call (after a timeout or an outage)."""
    from xinyue.credit.services.orders import BACKOFF, retry_pending_operation

    failures = retry_pending_operation(order_id=order_id)
    if failures is not None:
        retry_later(finish_credit_order, backoff=BACKOFF, failures=failures, order_id=order_id)


@periodic(crontab(minute="*/10"))
def reconcile_pending_authorizations() -> int:
    """Authorizations still pending after a few minutes: ask the provider (lost notifications)."""
    from xinyue.credit.services.authorizations import reconcile_pending_authorizations as run

    return run()


@periodic(crontab(minute="40", hour="2"))
def reconcile_credit_orders() -> dict[str, int]:
    """Nightly: finish pending provider calls, then query every open credit order."""
    from xinyue.credit.services.orders import reconcile_credit_orders as run

    return run()


@periodic(crontab(minute="10", hour="4"))
def purge_provider_notifications() -> int:
    """The inbox keeps notifications 90 days (long past any provider retry), then drops them."""
    from xinyue.credit.models import ProviderNotification

    cutoff = clock.now() - dt.timedelta(days=90)
    deleted, _ = ProviderNotification.objects.filter(received_at__lt=cutoff).delete()
    return deleted
