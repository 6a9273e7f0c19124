"""Background bodies of the orders app (thin: the rules live in services)."""

from __future__ import annotations

from xinyue.core.schedules import crontab, periodic


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
