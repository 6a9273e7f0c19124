"""The HTTP client the adapters use, and an in-process route to the embedded sandbox.

Adapters call ``client()``. Requests for the sandbox embedded in this platform (its default:
no gateway URL configured, ``CREDIT_SANDBOX_IN_PROCESS`` on) go through this process's own Django
stack — middleware, views, signatures and checks, everything but the socket — so that a web
worker never waits on another web worker of the same server (sync gunicorn workers would starve)
and ``xinyue seed-demo`` can reach it before the server runs and inside its transaction.
Everything else (the sandbox on its own port, real providers; the tests) is plain HTTP.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

_local = threading.local()


def client() -> Any:
    """The session of an ``in_process`` block; else, for the sandbox embedded in this very
    platform (no gateway URL configured), a session routing its URLs in process; else
    ``requests`` itself."""
    session = getattr(_local, "session", None)
    if session is not None:
        return session
    if _embedded_sandbox_in_process():
        return _embedded_session()
    return requests


def _embedded_sandbox_in_process() -> bool:
    from django.conf import settings

    from xinyue.credit import conf

    return bool(
        settings.CREDIT_SANDBOX_IN_PROCESS
        and settings.CREDIT_SANDBOX_ENABLED
        and not conf.provider_config("sandbox").get("gateway_url")
    )


def _embedded_session() -> requests.Session:
    from xinyue.credit import conf

    # The sandbox's own URLs, and (its side) our notification endpoint in this same platform.
    prefixes = (conf.sandbox_base_url() + "/", conf.public_base_url() + "/api/v1/credit/notify/")
    cached = getattr(_local, "embedded", None)
    if cached is None or cached[0] != prefixes:
        session = _InProcessSession(prefixes)
        cached = (prefixes, session)
        _local.embedded = cached
    return cached[1]


class _InProcessSession(requests.Session):
    """A session whose ``prefixes`` go to this process's Django stack; other URLs (a real
    provider next to the embedded sandbox) go out as usual. For the in-process URLs the
    environment (proxy variables, ``.netrc``, CA bundles) is not read: none of it applies
    without a socket, and reading it walked all of ``os.environ`` twice on every call."""

    def __init__(self, prefixes: tuple[str, ...]) -> None:
        super().__init__()
        self.in_process_prefixes = prefixes
        for prefix in prefixes:
            self.mount(prefix, InProcessAdapter())

    def merge_environment_settings(
        self, url: str | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> dict[str, Any]:
        if url and url.startswith(self.in_process_prefixes):
            return {"proxies": proxies or {}, "stream": stream, "verify": verify, "cert": cert}
        return super().merge_environment_settings(url, proxies, stream, verify, cert)


WAIT_LIMIT_HEADER = "X-Sandbox-Wait-Limit"


def _read_timeout(timeout: Any) -> float | None:
    if isinstance(timeout, tuple):
        timeout = timeout[1]
    return float(timeout) if timeout else None


class InProcessAdapter(BaseAdapter):
    """A ``requests`` transport that hands each request to Django's in-process handler."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        from django.test import Client
        from django.urls import get_urlconf, set_urlconf
        from django.utils import translation

        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() not in ("content-type", "content-length", "host")
        }
        # No socket to time out: the sandbox is told how long we wait (its "timeout" fault then
        # stops sleeping when we would have given up), and a late answer is a ReadTimeout.
        read_timeout = _read_timeout(kwargs.get("timeout"))
        if read_timeout is not None:
            headers[WAIT_LIMIT_HEADER] = str(read_timeout)
        # One test client per thread and host: a new one loads the whole middleware stack again
        # (WhiteNoise alone rescans the static files), which cost more than the call itself.
        clients = _local.__dict__.setdefault("in_process_clients", {})
        client = clients.get(parts.netloc)
        if client is None:
            client = clients[parts.netloc] = Client(
                HTTP_HOST=parts.netloc, raise_request_exception=False
            )
        client.cookies.clear()  # each call stands alone, as over a socket
        language, urlconf = translation.get_language(), get_urlconf()
        started = time.monotonic()
        try:
            answer = client.generic(
                request.method or "GET",
                path,
                data=body,
                content_type=request.headers.get("Content-Type", "application/octet-stream"),
                headers=headers,
            )
        finally:  # the caller's request goes on in its own language and URLconf
            if language:
                translation.activate(language)
            else:
                translation.deactivate()
            set_urlconf(urlconf)
        if read_timeout is not None and time.monotonic() - started > read_timeout:
            raise requests.ReadTimeout(f"no answer within {read_timeout} s (in process)")
        response = requests.Response()
        response.status_code = answer.status_code
        response._content = answer.content
        response.headers = CaseInsensitiveDict(dict(answer.items()))
        response.url = request.url or ""
        response.request = request
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        return None


@contextmanager
def in_process(base_url: str) -> Iterator[requests.Session]:
    session = _InProcessSession((base_url.rstrip("/") + "/",))
    previous = getattr(_local, "session", None)
    _local.session = session
    try:
        yield session
    finally:
        _local.session = previous
