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
from collections.abc import Iterator
from contextlib import contextmanager

from huey.api import Huey
from huey.storage import SqliteStorage

from xinyue.core.sqlite_writer import file_writer


class NormalSyncSqliteStorage(SqliteStorage):
    def _create_connection(self) -> sqlite3.Connection:
        conn = super()._create_connection()
        conn.execute("pragma synchronous=NORMAL")
        return conn

    @contextmanager
    def db(self, commit: bool = False, close: bool = False) -> Iterator[sqlite3.Cursor]:
        """Huey's statement block; a writing one first takes the queue file's place in the
        writers' queue (``core.sqlite_writer.file_writer``). The worker's threads dequeue with
        ``BEGIN EXCLUSIVE`` while web requests enqueue: in SQLite's busy handler (sleeps of 1–100
        ms, unfair) an enqueue after a placing batch waited behind them."""
        if not commit:
            with super().db(commit=False, close=close) as cursor:
                yield cursor
            return
        with file_writer(self.filename), super().db(commit=True, close=close) as cursor:
            yield cursor


class SqliteHuey(Huey):
    """``huey.SqliteHuey`` with ``synchronous=NORMAL`` (the queue of ``HUEY`` in settings)."""

    storage_class = NormalSyncSqliteStorage
