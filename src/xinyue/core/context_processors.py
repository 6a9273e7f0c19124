"""Values every page template needs (platform name, language switch)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _


def platform(request: HttpRequest) -> dict[str, Any]:
    return {"PLATFORM_NAME": _("信阅"), "LANGUAGES": settings.LANGUAGES}
