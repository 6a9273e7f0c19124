"""A per-process micro-cache: a result kept for a few seconds, like a search engine's refresh
interval (docs/decisions.md, "Anonymous search results are cached for two seconds").

At a thousand searches a second most of them repeat a query asked a moment ago; answering the
repeat from memory saves the engine, the stock lookup and the serialisation. Changes to the
catalog or stock become visible within the time to live. Only what is the same for every caller
may be cached here: nothing per reader (a shelf, a name) ever goes into a value.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")

log = logging.getLogger(__name__)


class MicroCache(Generic[V]):
    """Thread-safe; at most ``max_entries`` values (least recently used go first). The time to
    live is asked of ``ttl`` on each call (a setting: 0 switches the cache off)."""

    def __init__(
        self,
        *,
        ttl: Callable[[], float],
        max_entries: int = 256,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self.hits = 0
        self.misses = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, V]] = OrderedDict()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        ttl = self.ttl()
        if ttl <= 0:
            return compute()
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry[1]
            self.misses += 1
        # Computed outside the lock: two threads missing the same key both compute (rare, and
        # cheaper than making every other key wait).
        value = compute()
        with self._lock:
            self._entries[key] = (now + ttl, value)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
        return value

    def discard(self, key: Hashable) -> None:
        """Forget one key (its source changed: the next call computes it again)."""
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = 0

    def log_figures(self, name: str) -> None:
        """One log line with how often the cache answered (at a process's exit)."""
        if self.hits or self.misses:
            log.info("%s: pid %d, %d hits, %d misses", name, os.getpid(), self.hits, self.misses)
