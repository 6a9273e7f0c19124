"""Slow clients cost a connection, never a worker (issue 7, item 3): a real server process, four
sockets that send one header line every two seconds, and health must still answer in a second."""

from __future__ import annotations

import socket
import time

import pytest

from xinyue.core.testing import http_get, running_web_server


@pytest.mark.slow
def test_health_answers_within_a_second_while_slow_clients_dribble_headers(tmp_path):
    with running_web_server(tmp_path) as server:
        for _ in range(4):  # every worker has answered once (no first-request cost below)
            assert http_get(f"{server.base_url}/api/v1/health", timeout=10)[0] == 200
        slow = []
        for _ in range(4):
            s = socket.create_connection(("127.0.0.1", server.port))
            s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            slow.append(s)
        try:
            for round_ in range(3):
                time.sleep(2)
                for i, s in enumerate(slow):
                    s.sendall(f"X-Slow-{round_}: {i}\r\n".encode())
                started = time.monotonic()
                status, body = http_get(f"{server.base_url}/api/v1/health", timeout=1)
                assert status == 200
                assert b'"status": "ok"' in body
                assert time.monotonic() - started < 1
        finally:
            for s in slow:
                s.close()
