"""System checks of the credit app (shown by ``xinyue check``, ``migrate``, ``up``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security)
def sandbox_in_production(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """The sandbox lets anyone approve their own credit check: fine for the embedded demo
    (SQLite), a mistake on a production database."""
    engine = settings.DATABASES["default"]["ENGINE"]
    if settings.CREDIT_SANDBOX_ENABLED and engine == "django.db.backends.postgresql":
        return [
            Warning(
                "The credit sandbox is on: readers can approve their own credit checks and the "
                "sandbox's control endpoint is open.",
                hint="Set XINYUE_CREDIT_SANDBOX=0 in production.",
                id="credit.W001",
            )
        ]
    return []
