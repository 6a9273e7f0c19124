"""The embedded task queue (Huey on SQLite) syncs as the platform's database does: WAL with
``synchronous=NORMAL`` (Huey's own default is FULL, an fsync per commit), and it still carries
tasks from an enqueue to a dequeue."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading

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


HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


def test_an_enqueue_queues_for_the_queue_files_writer_behind_another_process(tmp_path):
    """The worker's dequeues and the web server's enqueues meet in the kernel's queue, not in
    SQLite's busy handler."""
    filename = str(tmp_path / "tasks.sqlite3")
    huey = SqliteHuey("test", filename=filename)

    @huey.task()
    def add(a: int, b: int) -> int:
        return a + b

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"{filename}-writer.lock"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        done = threading.Event()
        thread = threading.Thread(target=lambda: (add(1, 2), done.set()))
        thread.start()
        assert not done.wait(0.5)  # waiting for the other process's place
        assert huey.pending_count() == 0
        holder.stdin.write("\n")
        holder.stdin.flush()
        assert done.wait(30)
        thread.join()
        assert huey.pending_count() == 1
    finally:
        holder.kill()
        holder.wait()
