"""``xinyue up`` (``make run``) keeps serving when the background worker dies: it restarts the
worker and says so, instead of stopping the web server (issue 7, item 10)."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest

from xinyue.core.testing import http_get


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(path, pattern: str, timeout: float = 180) -> re.Match:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(pattern, path.read_text(errors="replace"))
        if match:
            return match
        time.sleep(0.2)
    raise AssertionError(f"{pattern!r} not in output:\n{path.read_text(errors='replace')}")


@pytest.mark.slow
def test_a_dead_worker_is_restarted_and_the_site_keeps_serving(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(XINYUE_DATA_DIR=str(tmp_path / "var"), PYTHONUNBUFFERED="1")
    port, sip2_port = free_port(), free_port()
    out = tmp_path / "up.log"
    command = [sys.executable, "-m", "xinyue.manage", "up", "--no-seed", "--port", str(port)]
    with out.open("wb") as log:
        up = subprocess.Popen(
            [*command, "--sip2-port", str(sip2_port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            first = int(wait_for(out, r"worker started \(pid (\d+)\)").group(1))
            wait_for(out, "信阅 is running")
            os.kill(first, signal.SIGKILL)
            wait_for(out, r"worker exited with status -9; restarting it")
            pids = [int(p) for p in re.findall(r"worker started \(pid (\d+)\)", out.read_text())]
            if len(pids) < 2:
                pids = [
                    first,
                    int(wait_for(out, rf"worker started \(pid (?!{first}\b)(\d+)\)").group(1)),
                ]
            assert pids[1] != first
            os.kill(pids[1], 0)  # the new worker is alive
            deadline = time.monotonic() + 60
            while True:
                try:
                    status, _body = http_get(f"http://127.0.0.1:{port}/api/v1/health", timeout=5)
                    break
                except OSError:
                    assert time.monotonic() < deadline, out.read_text()
                    time.sleep(0.3)
            assert status == 200
            # The kiosks' SIP2 server runs beside it: an SC status before login is answered.
            wait_for(out, f"SIP2 server listening on 127.0.0.1:{sip2_port}")
            with socket.create_connection(("127.0.0.1", sip2_port), timeout=10) as kiosk:
                kiosk.sendall(b"9900802.00\r")
                assert kiosk.recv(100).startswith(b"98YYYYNN")
            assert up.poll() is None
        finally:
            up.send_signal(signal.SIGINT)
            try:
                up.wait(timeout=30)
            except subprocess.TimeoutExpired:
                up.kill()
                up.wait()
    assert "stopped" in out.read_text()
