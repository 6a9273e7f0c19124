"""Who is on the other end of a request: the client address, decided in one place.

``REMOTE_ADDR`` is the peer the web server saw. Behind reverse proxies that peer is the proxy,
and the client is in ``X-Forwarded-For`` — but that header is whatever the client wrote, except
for the entries our own proxies appended. With ``XINYUE_TRUSTED_PROXY_COUNT = n`` (default 0: no
proxy, the header is ignored) the client is the n-th address from the right: the one the
outermost trusted proxy saw. Anything a client prepends lies further left and is never used.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    """The caller's IP address as text ("" when the server gave none)."""
    remote = (request.META.get("REMOTE_ADDR") or "").strip()
    trusted = int(getattr(settings, "XINYUE_TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted <= 0:
        return remote
    forwarded = [
        a.strip() for a in (request.META.get("HTTP_X_FORWARDED_FOR") or "").split(",") if a.strip()
    ]
    if not forwarded:
        return remote
    candidate = forwarded[-min(trusted, len(forwarded))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote  # a proxy we trust never writes garbage; a forged entry is not an address


def client_key(request: HttpRequest, *, purpose: str) -> str:
    """A keyed hash of the client address for ``purpose`` (never the address in clear)."""
    message = f"{purpose}|{client_address(request)}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:32]
