"""``var/`` holds the database, the task queue and the keys (issue 7, item 10): the directory is
0700 and every file we create in it 0600, whatever the umask; an existing 0644 file is tightened."""

from __future__ import annotations

import os
import sqlite3
import stat

import pytest

from xinyue import config
from xinyue.credit import crypto


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    path = tmp_path / "var"
    monkeypatch.setenv("XINYUE_DATA_DIR", str(path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    old = os.umask(0o022)
    yield path
    os.umask(old)


def test_the_data_directory_and_every_file_in_it_are_private(data_dir, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    database = config.database_config()["NAME"]
    queue = config.huey_config(config.database_config(), immediate=False)["connection"]["filename"]
    config.secret_from_file("secret_key", "SECRET_KEY")
    with sqlite3.connect(database) as db:  # what Django does on first use, WAL included
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (1)")
        assert mode(database + "-wal") == 0o600
        assert mode(database + "-shm") == 0o600
    with sqlite3.connect(queue) as db:
        db.execute("CREATE TABLE t (x)")
    crypto.ensure_key_pair(
        data_dir / "credit_keys" / "app.pem", data_dir / "credit_keys" / "app.pub"
    )

    assert mode(data_dir) == 0o700
    assert mode(database) == 0o600
    assert mode(queue) == 0o600
    assert mode(data_dir / "secret_key") == 0o600
    assert mode(data_dir / "credit_keys") == 0o700
    assert mode(data_dir / "credit_keys" / "app.pem") == 0o600


def test_files_left_readable_by_an_older_version_are_tightened(data_dir):
    data_dir.mkdir(mode=0o755)
    os.chmod(data_dir, 0o755)
    old = data_dir / "xinyue.sqlite3"
    old.write_bytes(b"")
    os.chmod(old, 0o644)
    assert config.database_config()["NAME"] == str(old)
    assert mode(data_dir) == 0o700
    assert mode(old) == 0o600
