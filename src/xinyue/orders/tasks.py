"""Background bodies of the orders app (thin: the rules live in services)."""

from __future__ import annotations

import logging

from django_tasks import task

from xinyue.core.retries import retry_later
from xinyue.core.schedules import crontab, periodic

log = logging.getLogger("xinyue.orders")


@task()
def open_order_credits(order_ids: list[int]) -> None:
    """Open the credit orders of the orders one placing batch committed (one task per batch);
    an order whose provider is down is tried again on its own (``open_order_credit``)."""
    for order_id in order_ids:
        try:
            open_order_credit.call(order_id=order_id)
        except Exception:  # one order's fault never stops the batch's others
            log.exception("order id %s: opening the credit order failed", order_id)


@task()
def open_order_credit(order_id: int, attempts: int = 0) -> None:
    """Open a placed order's credit order at the provider; tried again with back-off while the
    provider is down."""
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
