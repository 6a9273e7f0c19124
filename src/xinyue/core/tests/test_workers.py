"""Real background workers: several `xinyue worker` processes on one database run each job once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from xinyue.core.schedules import claim_slot


@pytest.fixture
def platform_env(tmp_path):
    """Environment for a separate platform instance: its own data dir and its own database."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings")
    url = os.environ.get("DATABASE_URL")
    if not url:
        env.pop("DATABASE_URL", None)
        yield env
        return
    name = f"xinyue_workers_{uuid.uuid4().hex[:8]}"
    admin_url = urlunsplit(urlsplit(url)._replace(path="/postgres", scheme="postgresql"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env["DATABASE_URL"] = urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    yield env
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def xinyue(env, *args, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "xinyue.manage", *args],
        env=env,
        capture_output=True,
        text=True,
        **kwargs,
    )


@pytest.mark.slow
def test_two_workers_run_every_job_exactly_once(platform_env):
    migrate = xinyue(platform_env, "migrate", "--no-input", timeout=300)
    assert migrate.returncode == 0, migrate.stderr
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "xinyue.manage", "worker", "--workers", "2", "--no-periodic"],
            env=platform_env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        result = xinyue(
            platform_env, "check-workers", "--jobs", "40", "--timeout", "90", timeout=180
        )
    finally:
        for worker in workers:
            worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["jobs"] == 40
    assert report["done"] == 40
    assert report["duplicates"] == 0
    assert sum(report["by_worker_pid"].values()) == 40


def test_a_periodic_slot_is_claimed_once():
    name = f"test.{uuid.uuid4().hex}"
    assert claim_slot(name) is True
    assert claim_slot(name) is False


def _niceness(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rsplit(")", 1)[1].split()[16])


def _started_worker_niceness(env, *args) -> int:
    """The CPU priority a `xinyue worker` gives itself, read from /proc once it is running."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "xinyue.manage", "worker", "--workers", "1", "--no-periodic", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):
            nice = _niceness(worker.pid)
            if nice != _niceness(os.getpid()) or worker.poll() is not None:
                break
            time.sleep(0.1)
        assert worker.poll() is None, worker.stderr.read()
        return nice - _niceness(os.getpid())
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.skipif(not os.path.exists("/proc/self/stat"), reason="reads /proc")
def test_the_worker_runs_below_the_web_server(platform_env):
    # XINYUE_WORKER_NICE sets the default (10 when unset); --nice wins over it.
    platform_env.pop("XINYUE_WORKER_NICE", None)
    assert _started_worker_niceness(platform_env) == 10
    assert _started_worker_niceness({**platform_env, "XINYUE_WORKER_NICE": "3"}, "--nice", "5") == 5


def test_a_worker_priority_out_of_range_stops_start_up_with_one_line(platform_env):
    result = xinyue({**platform_env, "XINYUE_WORKER_NICE": "25"}, "worker", timeout=120)
    assert result.returncode != 0
    assert "XINYUE_WORKER_NICE=25 is outside 0–19" in result.stderr
