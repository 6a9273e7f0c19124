"""Values every page template needs (platform name, language switch)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def platform(request: HttpRequest) -> dict[str, Any]:
    return {
        "PLATFORM_NAME": _("信阅"),
        "LANGUAGES": settings.LANGUAGES,
        # The sandbox credit provider lets anyone approve their own credit check: say so.
        "SANDBOX_ON": bool(settings.CREDIT_SANDBOX_ENABLED),
    }
