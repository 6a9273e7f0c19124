"""Settings read from the environment through ``config``: unset, empty and set values."""

from __future__ import annotations

import pytest
from django.db import connection

from xinyue import config


def test_an_empty_rate_switches_the_limit_off_but_unset_keeps_the_default(monkeypatch):
    monkeypatch.delenv("XINYUE_TEST_RATE", raising=False)
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == "600/min"
    monkeypatch.setenv("XINYUE_TEST_RATE", "")
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == ""
    assert config.env_str("XINYUE_TEST_RATE", "600/min") == "600/min"
    monkeypatch.setenv("XINYUE_TEST_RATE", "5/s")
    assert config.env_str("XINYUE_TEST_RATE", "600/min", empty_means_off=True) == "5/s"


def test_sqlite_connections_share_one_memory_limit_per_process(monkeypatch, tmp_path):
    monkeypatch.delenv("XINYUE_SQLITE_HEAP_MB", raising=False)
    default = config.sqlite_config(tmp_path / "x.sqlite3")["OPTIONS"]["init_command"]
    assert default.endswith(";PRAGMA soft_heap_limit=33554432")
    monkeypatch.setenv("XINYUE_SQLITE_HEAP_MB", "0")
    off = config.sqlite_config(tmp_path / "x.sqlite3")["OPTIONS"]["init_command"]
    assert off.endswith(";PRAGMA soft_heap_limit=0")
    monkeypatch.setenv("XINYUE_SQLITE_HEAP_MB", "-1")
    with pytest.raises(config.ConfigError, match="XINYUE_SQLITE_HEAP_MB at least 0"):
        config.sqlite_config(tmp_path / "x.sqlite3")


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "sqlite", reason="an SQLite setting")
def test_a_connection_opened_by_django_carries_the_limit():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA soft_heap_limit")
        assert cursor.fetchone()[0] == 32 * 1024 * 1024  # the default, in bytes
