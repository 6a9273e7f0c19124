"""Background bodies of circulation (thin: the rules live in services)."""

from __future__ import annotations

from django_tasks import task

from xinyue.core.retries import retry_later


@task()
def sync_loan_credit(loan_id: int) -> None:
    """Send what a loan still owes its credit order (completion, extension), with back-off."""
    from xinyue.circulation.services.credit_sync import BACKOFF
    from xinyue.circulation.services.credit_sync import sync_loan_credit as run

    failures = run(loan_id=loan_id)
    if failures is not None:
        retry_later(sync_loan_credit, backoff=BACKOFF, failures=failures, loan_id=loan_id)
