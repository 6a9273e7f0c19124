"""Serving the sandbox gateway alone (``xinyue sandbox-gateway``): the same views at the same
paths (``/sandbox/zhima/…``), through Django's full middleware stack, on a threaded WSGI server."""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.http import HttpRequest, HttpResponse

URLCONF = "xinyue.credit.sandbox.urls_standalone"


class SandboxHandler(WSGIHandler):
    """The platform's WSGI handler, resolving only the sandbox's URLs."""

    def get_response(self, request: HttpRequest) -> HttpResponse:
        request.urlconf = URLCONF
        return super().get_response(request)


def make_server(host: str, port: int) -> ThreadedWSGIServer:
    server = ThreadedWSGIServer((host, port), WSGIRequestHandler, allow_reuse_address=True)
    server.set_app(SandboxHandler())
    return server
