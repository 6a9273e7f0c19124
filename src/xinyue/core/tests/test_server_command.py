"""The web server's processes start with their memory settings (docs/decisions.md, "Worker memory:
SQLite's page caches"): one malloc arena and a 4 MB SQLite page cache per connection, unless the
environment says otherwise; every other process keeps config.py's default."""

from __future__ import annotations

import os
import subprocess
import sys

from xinyue.core.server import WEB_SQLITE_CACHE_MB, web_command

# What a web worker's connection reports, run behind the server command's own environment.
PROBE = (
    "import django; django.setup();"
    "from django.db import connection;"
    "import os;"
    "c = connection.cursor();"
    "print(c.execute('PRAGMA cache_size').fetchone()[0], os.environ.get('MALLOC_ARENA_MAX'))"
)


def _prefix(command: list[str]) -> list[str]:
    return command[: command.index(sys.executable)]


def _probe(prefix: list[str], data_dir, extra: dict[str, str]) -> str:
    """Run PROBE behind ``prefix`` (the server command's ``env NAME=VALUE …``, or nothing)."""
    environment = {
        k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "XINYUE_SQLITE_CACHE_MB")
    }
    environment.update(
        XINYUE_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="xinyue.settings", **extra
    )
    done = subprocess.run(
        [*prefix, sys.executable, "-c", PROBE],
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def test_a_web_workers_connection_has_a_4_mb_page_cache_and_one_arena(tmp_path, monkeypatch):
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("XINYUE_SQLITE_CACHE_MB", raising=False)
    command = web_command(host="127.0.0.1", port=18999, workers=2)
    assert command[1:3] == ["MALLOC_ARENA_MAX=1", f"XINYUE_SQLITE_CACHE_MB={WEB_SQLITE_CACHE_MB}"]
    # a negative cache_size is KiB: 4 MB
    assert _probe(_prefix(command), tmp_path, {}) == f"{-WEB_SQLITE_CACHE_MB * 1024} 1"


def test_other_processes_keep_the_default_page_cache(tmp_path):
    assert _probe([], tmp_path, {}).split()[0] == str(-16 * 1024)


def test_an_explicit_value_in_the_environment_wins(tmp_path, monkeypatch):
    monkeypatch.setenv("XINYUE_SQLITE_CACHE_MB", "8")
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    command = web_command(host="127.0.0.1", port=18999, workers=2)
    assert "MALLOC_ARENA_MAX=1" in command
    assert not any(part.startswith("XINYUE_SQLITE_CACHE_MB=") for part in command)
    assert _probe(_prefix(command), tmp_path, {"XINYUE_SQLITE_CACHE_MB": "8"}) == "-8192 1"
