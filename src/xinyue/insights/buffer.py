"""An in-process buffer that turns many small event writes into a few bulk inserts.

Why: a search page that wrote its event row in its own transaction would pay a commit (an fsync
on SQLite, a round trip and a WAL flush on PostgreSQL) per request, for a fact nobody reads
until the report. The buffer collects events and writes them with one multi-row INSERT when it
holds ``batch_size`` events, when its oldest event is ``max_age`` seconds old (checked on every
add and by a daemon thread, so an idle process still flushes), and when the process ends
(``core.exiting.at_exit``: a plain exit or the end of a web server worker).

The price, accepted deliberately (docs/decisions.md): a process killed hard loses at most the
last ``max_age`` seconds of its events. Business facts never go through here.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from django.db import connection, connections

from xinyue.core.exiting import at_exit

logger = logging.getLogger(__name__)

T = TypeVar("T")


class EventBuffer(Generic[T]):
    """Thread-safe; one per process (re-created lazily after a fork)."""

    def __init__(
        self,
        *,
        writer: Callable[[Sequence[T]], None],
        batch_size: int = 500,
        max_age: float = 1.0,
        max_pending: int = 50_000,
        background: bool = True,
    ) -> None:
        self.writer = writer
        self.batch_size = batch_size
        self.max_age = max_age
        # When the database refuses writes for a while, keep at most this many events.
        self.max_pending = max_pending
        self.background = background
        self.dropped = 0
        self._lock = threading.Lock()
        self._items: list[T] = []
        self._oldest: float | None = None
        self._pid = os.getpid()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: T) -> None:
        with self._lock:
            self._after_fork()
            self._items.append(item)
            now = time.monotonic()
            if self._oldest is None:
                self._oldest = now
            due = len(self._items) >= self.batch_size or now - self._oldest >= self.max_age
            # Never write inside somebody's transaction: a rollback there would take our
            # events with it. The next add outside one, or the thread, writes them.
            batch = self._take() if due and not connection.in_atomic_block else None
        if batch:
            self._write(batch)
        elif self.background:
            self._ensure_thread()

    def flush(self) -> int:
        """Write everything buffered now; returns how many events were written."""
        with self._lock:
            self._after_fork()
            batch = self._take()
        return self._write(batch) if batch else 0

    def discard(self) -> int:
        """Forget everything buffered (tests start from an empty buffer)."""
        with self._lock:
            count = len(self._items)
            self._items = []
            self._oldest = None
        return count

    def stop(self) -> None:
        self._stop.set()

    # -- internals ---------------------------------------------------------------------------

    def _take(self) -> list[T]:
        batch, self._items, self._oldest = self._items, [], None
        return batch

    def _write(self, batch: list[T]) -> int:
        """Write ``batch`` in slices; on a failure keep what was not written. Returns how many
        were written."""
        start = 0
        try:
            while start < len(batch):
                self.writer(batch[start : start + self.batch_size])
                start += self.batch_size
        except Exception:
            batch = batch[start:]  # what was written stays written
            logger.exception(
                "writing %d events failed; keeping them for the next flush", len(batch)
            )
            with self._lock:
                room = max(self.max_pending - len(self._items), 0)
                kept = batch[-room:] if room else []
                self.dropped += len(batch) - len(kept)
                self._items = kept + self._items
                if self._items and self._oldest is None:
                    self._oldest = time.monotonic()
            return start
        return len(batch)

    def _after_fork(self) -> None:
        # A forked worker (gunicorn) inherits the parent's buffer and a dead thread handle:
        # the parent flushes its own events; the child starts empty.
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._items, self._oldest, self._thread = [], None, None
            self._lock = threading.Lock()
            self._stop = threading.Event()

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(
                target=self._run, name="xinyue-event-flusher", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.max_age):
            with self._lock:
                due = self._oldest is not None and time.monotonic() - self._oldest >= self.max_age
                batch = self._take() if due else []
            if batch:
                self._write(batch)
                # This thread's own connection: give it back rather than hold it idle.
                connections.close_all()

    def register_exit_flush(self) -> None:
        at_exit(self._flush_at_exit)

    def _flush_at_exit(self) -> None:
        try:
            self.flush()
        except Exception:  # pragma: no cover - interpreter shutdown
            logger.exception("flushing events at exit failed")
