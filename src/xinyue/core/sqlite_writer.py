"""One SQLite writer at a time across processes, queued by the kernel.

SQLite lets one connection write at a time; a second process that wants to write meets the
lock in SQLite's busy handler, which sleeps and retries (1, 2, 5, 10 … 100 ms) and is unfair:
the process that just committed often takes the lock again before the sleeper wakes. Web
workers placing orders (each with its own group commit) lost up to a second per order that way,
and a background worker below the web server's CPU priority that met a web worker there left
both cores idle while each slept. So writers queue on an ``flock`` of a file beside the database
instead: the kernel wakes the next one the moment the lock is released, and while a process
waits, its own orders keep joining its next batch.

Every transaction takes its place here: the SQLite backend (``core.sqlite_backend``) calls
``take`` before its ``BEGIN IMMEDIATE`` and ``give_back`` once the transaction has ended, in
every process (web, worker, commands). ``sqlite_writer()`` holds the place for a block of
autocommit writes (a rate limit's counter, a token's last use, an idempotency record written
after its view) or for a block that opens a transaction itself; a connection's holds nest.

Inside an atomic block the connection holds SQLite's write lock already, so ``sqlite_writer()``
does nothing there: with another backend, taking the file's lock then could wait for a process
that holds the file's lock and waits, in SQLite's busy handler, for ours.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connection

# Threads of one process share a file's lock (one descriptor per process): they queue on a
# thread lock of that file first. One per database file, so that holding one database's place
# never waits for another's.
_thread_locks: dict[str, threading.Lock] = {}
_thread_locks_guard = threading.Lock()
_files: dict[tuple[int, str], int] = {}


def _thread_lock(name: str) -> threading.Lock:
    lock = _thread_locks.get(name)
    if lock is None:
        with _thread_locks_guard:
            lock = _thread_locks.setdefault(name, threading.Lock())
    return lock


def _lock_file(name: str) -> int:
    key = (os.getpid(), name)  # a forked worker opens its own descriptor
    fd = _files.get(key)
    if fd is None:
        fd = os.open(f"{name}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        _files[key] = fd
    return fd


def take(wrapper: Any) -> bool:
    """Hold the writer's place for ``wrapper`` (a SQLite connection), waiting for other
    processes and threads; nested holds of one connection count up. False for a database in
    memory, which one process owns: nothing to queue."""
    if wrapper.is_in_memory_db():
        return False
    depth = getattr(wrapper, "_writer_depth", 0)
    if depth == 0:
        name = str(wrapper.settings_dict["NAME"])
        _thread_lock(name).acquire()
        try:
            fcntl.flock(_lock_file(name), fcntl.LOCK_EX)
        except BaseException:
            _thread_lock(name).release()
            raise
        wrapper._writer_name = name  # given back to the file it was taken from
    wrapper._writer_depth = depth + 1
    return True


def give_back(wrapper: Any) -> None:
    """End one hold ``take`` gave ``wrapper``; the last one lets the next writer in."""
    depth = getattr(wrapper, "_writer_depth", 0)
    if depth <= 0:
        return
    wrapper._writer_depth = depth - 1
    if depth == 1:
        name = wrapper._writer_name
        try:
            fcntl.flock(_lock_file(name), fcntl.LOCK_UN)
        finally:
            _thread_lock(name).release()


@contextmanager
def file_writer(name: str) -> Iterator[None]:
    """Hold the writer's place of the SQLite file ``name`` for a block, for a connection that
    is not Django's (the task queue's own, ``core.taskqueue``). Never taken while waiting for
    the platform database's place: the queue's writes hold no other lock."""
    with _thread_lock(name):
        fd = _lock_file(name)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)


@contextmanager
def sqlite_writer() -> Iterator[None]:
    """Hold the writer's place for the block (autocommit writes, or a block that opens its own
    transaction)."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    held = take(connection)
    try:
        yield
    finally:
        if held:
            give_back(connection)
