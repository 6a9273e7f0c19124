"""One SQLite writer at a time across processes, queued by the kernel.

SQLite lets one connection write at a time; a second process that wants to write meets the
lock in SQLite's busy handler, which sleeps and retries (1, 2, 5, 10 … 100 ms) and is unfair:
the process that just committed often takes the lock again before the sleeper wakes. Web
workers placing orders (each with its own group commit) lost up to a second per order that way.
``sqlite_writer()`` makes such writers queue on an ``flock`` of a file beside the database
instead: the kernel wakes the next one the moment the lock is released, and while a process
waits, its own orders keep joining its next batch. The other writes of a web request (a rate
limit's counter, a token's last use, an idempotency record written after its view) queue here
too. Other writers (workers, commands) still meet in the busy handler, as before. A database in
memory has one process: nothing to queue.

Inside a transaction the caller already holds SQLite's write lock (``BEGIN IMMEDIATE``), so
``sqlite_writer()`` does nothing there: taking the file's lock then could wait for a process
that holds the file's lock and waits, in the busy handler, for ours.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

_local_lock = threading.Lock()  # threads of one process share the file's lock: queue them too
_files: dict[tuple[int, str], int] = {}


def _lock_file(name: str) -> int:
    key = (os.getpid(), name)  # a forked worker opens its own descriptor
    fd = _files.get(key)
    if fd is None:
        fd = os.open(f"{name}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _files[key] = fd
    return fd


@contextmanager
def sqlite_writer() -> Iterator[None]:
    """Hold the writer's place for the block (wrap the block's ``transaction.atomic()``)."""
    if (
        connection.vendor != "sqlite"
        or connection.in_atomic_block  # holds the write lock already (or is nested in ours)
        or connection.is_in_memory_db()  # type: ignore[attr-defined]
    ):
        yield
        return
    with _local_lock:
        fd = _lock_file(str(connection.settings_dict["NAME"]))
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits without the GIL
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
