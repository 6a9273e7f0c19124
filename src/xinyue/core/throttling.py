"""Rate limits on the public API (DESIGN §6), per client IP for anonymous calls and per credential.

django-ninja's throttles fix their rate when built; these read it from settings at each request
so an operator (or a test) can change it without a restart of the API object. Counters live in
the default cache: per process with the embedded local-memory cache (a limit per web process),
shared when the deployment configures a shared cache.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from ninja.throttling import AnonRateThrottle, AuthRateThrottle


class _SettingsRate:
    setting = ""

    def __init__(self) -> None:
        super().__init__(rate=getattr(settings, self.setting) or "1000000/s")  # type: ignore[call-arg]

    def allow_request(self, request: HttpRequest) -> bool:
        rate = getattr(settings, self.setting)
        if not rate:
            return True
        if rate != self.rate:
            self.rate = rate
            self.num_requests, self.duration = self.parse_rate(rate)
        return super().allow_request(request)  # type: ignore[misc]


class AnonymousRate(_SettingsRate, AnonRateThrottle):
    setting = "XINYUE_API_RATE_ANONYMOUS"


class CredentialRate(_SettingsRate, AuthRateThrottle):
    setting = "XINYUE_API_RATE_AUTHENTICATED"
