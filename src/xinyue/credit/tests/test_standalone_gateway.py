"""``xinyue sandbox-gateway``: the same gateway served alone on its own port."""

from __future__ import annotations

import threading

import pytest
import requests
from django.db import connections

from xinyue.credit import services
from xinyue.credit.sandbox.server import make_server
from xinyue.credit.tests.conftest import make_reader
from xinyue.readers.services.identity import reader_actor


@pytest.fixture
def standalone(live, settings):
    server = make_server("127.0.0.1", 0)
    # An in-memory SQLite test database lives in one connection: share it, as Django's live
    # server thread does. PostgreSQL needs nothing (the test is transactional).
    shared = {
        alias: connections[alias]
        for alias in connections
        if connections[alias].vendor == "sqlite" and connections[alias].is_in_memory_db()
    }

    def serve():
        for alias, conn in shared.items():
            connections[alias] = conn
        server.serve_forever(poll_interval=0.05)

    for conn in shared.values():
        conn.inc_thread_sharing()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    settings.CREDIT_PROVIDERS = {
        **settings.CREDIT_PROVIDERS,
        "sandbox": {
            **settings.CREDIT_PROVIDERS["sandbox"],
            "gateway_url": f"{base}/sandbox/zhima/gateway.do",
        },
    }
    yield base
    server.shutdown()
    server.server_close()
    for conn in shared.values():
        conn.dec_thread_sharing()


@pytest.mark.django_db(transaction=True)
def test_an_authorization_through_the_standalone_gateway(standalone, live):
    reader = make_reader()
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    assert authorization.confirm_url.startswith(f"{standalone}/sandbox/zhima/gateway.do?")
    page = requests.get(authorization.confirm_url, timeout=10)
    assert "授权芝麻信用评估" in page.text
    assert "/static/credit/sandbox.css" in page.text
    live.confirm(authorization.confirm_url, "approve", 600)
    authorization.refresh_from_db()
    assert authorization.status == "admitted"  # its notification reached the platform
    assert (
        requests.get(f"{standalone}/credit/", timeout=10, allow_redirects=False).status_code == 404
    )
