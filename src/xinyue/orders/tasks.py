"""Background bodies of the orders app (thin: the rules live in services)."""

from __future__ import annotations

from xinyue.core.schedules import crontab, periodic


@periodic(crontab(minute="*"))
def expire_waiting_orders() -> int:
    """Orders waiting for the reader's confirmation at the provider: move them on, or expire them
    (releasing stock, quota and budget) once their window has passed."""
    from xinyue.orders.services import expire_waiting_orders as run

    return run()
