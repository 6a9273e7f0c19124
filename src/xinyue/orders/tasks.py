"""Background bodies of the orders app (thin: the rules live in services)."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.retries import retry_later
from xinyue.core.schedules import crontab, periodic


@task()
def open_order_credit(order_id: int, attempts: int = 0) -> None:
    """Open a placed order's credit order at the provider (enqueued when the order commits);
    tried again with back-off while the provider is down."""
    from xinyue.orders.services import CREDIT_BACKOFF
    from xinyue.orders.services import open_order_credit as run

    failed = run(order_id=order_id, attempts=attempts)
    if failed is not None:
        retry_later(
            open_order_credit,
            backoff=CREDIT_BACKOFF,
            failures=failed,
            order_id=order_id,
            attempts=failed,
        )


@periodic(crontab(minute="*"))
def expire_waiting_orders() -> int:
    """Orders waiting for the reader's confirmation at the provider: move them on, or expire them
    (releasing stock, quota and budget) once their window has passed."""
    from xinyue.orders.services import expire_waiting_orders as run

    return run()


@periodic(crontab(minute="*/5"))
def advance_wait_lists() -> int:
    """Wait-list turns whose window passed go to the next reader; copies in stock reach the
    readers waiting for them."""
    from xinyue.orders.services import advance_wait_lists as run

    return run()
