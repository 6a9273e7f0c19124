"""A per-process cache of computed results, bounded in entries and bytes, each kept for a time
to live and, optionally, only while its source's *generation* is unchanged (docs/decisions.md,
"The search result cache").

At a thousand searches a second most of them repeat a query asked a moment ago; answering the
repeat from memory saves the engine. A caller whose source can tell when it changed (the catalog's
generation number, ``catalog.selectors.search``) passes ``generation``: an entry computed under
another generation is never returned, so a change shows at once, not after the time to live. Only
what is the same for every caller may be cached here: nothing per reader (a shelf, a name) ever
goes into a value.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable, Sequence
from typing import Generic, NamedTuple, TypeVar

V = TypeVar("V")

log = logging.getLogger(__name__)


class _Entry(NamedTuple, Generic[V]):
    expires: float
    generation: Hashable
    size: int
    value: V


class MicroCache(Generic[V]):
    """Thread-safe; at most ``max_entries`` values and ``max_bytes`` of them as ``weigh`` counts
    (least recently used go first). The time to live is asked of ``ttl`` on each call (a
    setting: 0 switches the cache off); ``generation``, when given, is asked before computing
    and an entry answers only under the generation it was computed in."""

    def __init__(
        self,
        *,
        ttl: Callable[[], float],
        max_entries: int = 256,
        max_bytes: Callable[[], int] | None = None,
        weigh: Callable[[V], int] | None = None,
        generation: Callable[[], Hashable] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl
        self.clock = clock
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self.weigh = weigh
        self.generation = generation
        self.hits = 0
        self.misses = 0
        self.bytes = 0
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, _Entry[V]] = OrderedDict()

    def get_or_compute(self, key: Hashable, compute: Callable[[], V]) -> V:
        ttl = self.ttl()
        if ttl <= 0:
            return compute()
        # Read before computing: a value computed after a change is never filed under the
        # generation before it.
        generation = self.generation() if self.generation is not None else None
        now = self.clock()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.expires > now and entry.generation == generation:
                self._entries.move_to_end(key)
                self.hits += 1
                return entry.value
            self.misses += 1
        # Computed outside the lock: two threads missing the same key both compute (rare, and
        # cheaper than making every other key wait).
        value = compute()
        size = self.weigh(value) if self.weigh is not None else 0
        limit = self.max_bytes() if self.max_bytes is not None else None
        if limit is not None and size > limit:
            return value  # larger than the whole cache: never kept
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size
            self._entries[key] = _Entry(now + ttl, generation, size, value)
            self.bytes += size
            while len(self._entries) > self.max_entries or (
                limit is not None and self.bytes > limit
            ):
                _, dropped = self._entries.popitem(last=False)
                self.bytes -= dropped.size
        return value

    def get_many(self, keys: Sequence[Hashable | None]) -> list[V | None]:
        """The values kept for ``keys``, None where there is none (a None key has none), under
        one look at the time to live, the clock and the lock for them all: a caller with many
        keys per request (a page of search items) then computes only the missing ones through
        ``get_or_compute``. Only for caches whose values are never None."""
        if self.ttl() <= 0:
            return [None] * len(keys)
        generation = self.generation() if self.generation is not None else None
        now = self.clock()
        found: list[V | None] = []
        with self._lock:
            for key in keys:
                entry = self._entries.get(key) if key is not None else None
                if entry is not None and entry.expires > now and entry.generation == generation:
                    self._entries.move_to_end(key)
                    self.hits += 1
                    found.append(entry.value)
                else:
                    found.append(None)
        return found

    def discard(self, key: Hashable) -> None:
        """Forget one key (its source changed: the next call computes it again)."""
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.bytes -= old.size

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self.hits = self.misses = self.bytes = 0

    def __len__(self) -> int:
        return len(self._entries)

    def log_figures(self, name: str) -> None:
        """One log line with how often the cache answered (at a process's exit)."""
        if self.hits or self.misses:
            log.info("%s: pid %d, %d hits, %d misses", name, os.getpid(), self.hits, self.misses)
