"""The embedded task queue (Huey on SQLite) syncs as the platform's database does: WAL with
``synchronous=NORMAL`` (Huey's own default is FULL, an fsync per commit), and it still carries
tasks from an enqueue to a dequeue."""

from __future__ import annotations

import sqlite3

from xinyue import config
from xinyue.core.taskqueue import SqliteHuey


def test_the_sqlite_queue_is_wal_with_normal_sync_and_carries_tasks(tmp_path):
    settings_huey = config.huey_config({"ENGINE": "django.db.backends.sqlite3"}, immediate=False)
    assert settings_huey["huey_class"] == "xinyue.core.taskqueue.SqliteHuey"

    huey = SqliteHuey("test", filename=str(tmp_path / "tasks.sqlite3"))
    conn = huey.storage.conn
    assert conn.execute("pragma journal_mode").fetchone() == ("wal",)
    assert conn.execute("pragma synchronous").fetchone() == (1,)  # NORMAL

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    add(2, 3)
    assert huey.pending_count() == 1
    # Another connection to the file (another process) sees the committed task.
    other = sqlite3.connect(tmp_path / "tasks.sqlite3")
    assert other.execute("SELECT COUNT(*) FROM task").fetchone() == (1,)
    other.close()
    task = huey.dequeue()
    assert huey.execute(task) == 5
    assert huey.pending_count() == 0
