"""System checks of the credit app (shown by ``xinyue check``, ``migrate``, ``up``)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register


def sandbox_warnings(*, sandbox_enabled: bool, engine: str) -> list[Warning]:
    """The sandbox lets anyone approve their own credit check: fine for the demo, a mistake
    anywhere else, whatever the database (an SQLite deployment is a deployment too)."""
    if sandbox_enabled:
        return [
            Warning(
                f"The credit sandbox is on ({engine.rsplit('.', 1)[-1]}): readers can approve "
                "their own credit checks.",
                hint="Set XINYUE_CREDIT_SANDBOX=0 in production.",
                id="credit.W001",
            )
        ]
    return []


@register(Tags.security)
def sandbox_in_production(app_configs: Any, **kwargs: Any) -> list[Warning]:
    return sandbox_warnings(
        sandbox_enabled=settings.CREDIT_SANDBOX_ENABLED,
        engine=settings.DATABASES["default"]["ENGINE"],
    )
