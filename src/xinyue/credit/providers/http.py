"""The HTTP client the adapters use, and an in-process route to the embedded sandbox.

Adapters call ``client()`` (``requests`` by default). ``in_process(base_url)`` routes requests
for ``base_url`` through this process's own Django stack (middleware, views, signing: everything
but the socket) for as long as the block runs. ``xinyue seed-demo`` needs it: it runs before the
web server is up, inside a database transaction that a second connection (a server answering
over a socket) would have to wait for.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

_local = threading.local()


def client() -> Any:
    """``requests`` itself, or a session with in-process routes mounted."""
    return getattr(_local, "session", None) or requests


class InProcessAdapter(BaseAdapter):
    """A ``requests`` transport that hands each request to Django's in-process handler."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        from django.test import Client

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
        answer = Client(HTTP_HOST=parts.netloc).generic(
            request.method or "GET",
            path,
            data=body,
            content_type=request.headers.get("Content-Type", "application/octet-stream"),
            headers=headers,
        )
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
    session = requests.Session()
    session.mount(base_url.rstrip("/") + "/", InProcessAdapter())
    previous = getattr(_local, "session", None)
    _local.session = session
    try:
        yield session
    finally:
        _local.session = previous
