"""Slow clients cost a connection, never a worker (issue 7, item 3): a real server process, four
sockets that send one header line every two seconds, and health must still answer in a second."""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request

import pytest

from xinyue.core.server import web_command


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, timeout: float) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (loopback)
        return response.status, response.read()


@pytest.fixture
def server(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    env.update(XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings")
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen(
        web_command(host="127.0.0.1", port=port, workers=2, access_log=False),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            get(f"{base}/api/v1/health", timeout=2)
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail((tmp_path / "server.log").read_text(errors="replace"))
            time.sleep(0.2)
    yield base, port
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    log.close()


@pytest.mark.slow
def test_health_answers_within_a_second_while_slow_clients_dribble_headers(server):
    base, port = server
    slow = []
    for _ in range(4):
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        slow.append(s)
    try:
        for round_ in range(3):
            time.sleep(2)
            for i, s in enumerate(slow):
                s.sendall(f"X-Slow-{round_}: {i}\r\n".encode())
            started = time.monotonic()
            status, body = get(f"{base}/api/v1/health", timeout=1)
            assert status == 200
            assert b'"status": "ok"' in body
            assert time.monotonic() - started < 1
    finally:
        for s in slow:
            s.close()
