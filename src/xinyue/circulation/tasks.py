"""Background bodies of circulation (thin: the rules live in services)."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.schedules import crontab, periodic


@task()
def send_credit_record(record_id: int) -> None:
    """Send one credit outbox row to the provider, with back-off."""
    from xinyue.circulation.services import credit_sync

    failures = credit_sync.send_credit_record(record_id=record_id)
    if failures is not None:
        credit_sync.schedule_retry(record_id=record_id, failures=failures)


@periodic(crontab(minute="5", hour="1"))
def daily_loan_job() -> dict[str, int]:
    """Reminders, overdue reports, loans declared lost and their compensation (once a day)."""
    from xinyue.circulation.services.overdue import run_daily

    return run_daily()


@periodic(crontab(minute="35", hour="2"))
def nightly_credit_reconciliation() -> dict[str, int]:
    """Resend stale outbox rows; ask the provider about every open credit order; record drift."""
    from xinyue.circulation.services.reconciliation import reconcile

    return reconcile()
