"""Huey's SQLite task queue (embedded mode), synced as the platform's own database is.

Huey's ``SqliteStorage`` leaves SQLite's default ``synchronous=FULL``: in WAL mode every commit
waits for an fsync of the log, and an enqueue is two commits (django-tasks' result record and
the task), ~10 ms of waiting per enqueue — the placing batch's committer thread waited for it
before the next batch could start. ``synchronous=NORMAL`` in WAL mode (what
``config.sqlite_config`` gives the main database) syncs at checkpoints only: a crashed process
loses nothing, a power cut may lose the last commits but never corrupts the file. A task lost
that way is covered where its work matters: a placed order still without a credit order is
enqueued again by ``orders.tasks.expire_waiting_orders`` (docs/decisions.md).
"""

from __future__ import annotations

import sqlite3

from huey.api import Huey
from huey.storage import SqliteStorage


class NormalSyncSqliteStorage(SqliteStorage):
    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn


class SqliteHuey(Huey):
    """``huey.SqliteHuey`` with ``synchronous=NORMAL`` (the queue of ``HUEY`` in settings)."""

    storage_class = NormalSyncSqliteStorage
