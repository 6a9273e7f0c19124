"""``core.microcache.MicroCache``: an entry answers within its time to live and only under the
generation it was computed in; entries and bytes stay within their bounds (least recently used
go first)."""

from __future__ import annotations

from xinyue.core.microcache import MicroCache


class Source:
    """A value that changes, with a generation that says when."""

    def __init__(self) -> None:
        self.value = "a"
        self.generation = 1
        self.computed = 0

    def compute(self) -> str:
        self.computed += 1
        return self.value


def test_an_entry_answers_only_under_its_own_generation():
    source = Source()
    now = [0.0]
    cache: MicroCache[str] = MicroCache(
        ttl=lambda: 60, generation=lambda: source.generation, clock=lambda: now[0]
    )
    assert cache.get_or_compute("k", source.compute) == "a"
    source.value = "b"
    assert cache.get_or_compute("k", source.compute) == "a"  # same generation: kept
    source.generation = 2
    assert cache.get_or_compute("k", source.compute) == "b"
    assert (cache.hits, cache.misses, source.computed) == (1, 2, 2)
    now[0] = 60.0
    assert cache.get_or_compute("k", source.compute) == "b"
    assert source.computed == 3  # the time to live ran out


def test_bytes_and_entries_stay_within_their_bounds():
    cache: MicroCache[bytes] = MicroCache(
        ttl=lambda: 60, max_entries=5, max_bytes=lambda: 100, weigh=len
    )
    for key in range(4):
        cache.get_or_compute(key, lambda: b"x" * 30)
    assert (len(cache), cache.bytes) == (3, 90)  # the first went for the fourth
    cache.get_or_compute(1, lambda: b"never")  # 1 is now the most recently used
    cache.get_or_compute("big", lambda: b"y" * 101)  # larger than the cache: never kept
    assert (len(cache), cache.bytes) == (3, 90)
    cache.get_or_compute("small", lambda: b"z" * 10)
    assert (list(cache._entries), cache.bytes) == ([2, 3, 1, "small"], 100)
    cache.get_or_compute("tiny", lambda: b"")
    cache.get_or_compute("tinier", lambda: b"")  # a sixth entry: the oldest goes
    assert list(cache._entries) == [3, 1, "small", "tiny", "tinier"]
    cache.discard(1)
    assert cache.bytes == sum(e.size for e in cache._entries.values())


def test_get_many_answers_what_get_or_compute_would_and_computes_nothing():
    source = Source()
    now = [0.0]
    cache: MicroCache[str] = MicroCache(
        ttl=lambda: 60, generation=lambda: source.generation, clock=lambda: now[0]
    )
    cache.get_or_compute("a", source.compute)
    cache.get_or_compute("b", lambda: "B")
    assert cache.get_many(["a", "missing", None, "b"]) == ["a", None, None, "B"]
    assert (cache.hits, cache.misses, source.computed) == (2, 2, 1)
    assert list(cache._entries) == ["a", "b"]  # the found are the most recently used, in order
    source.generation = 2
    assert cache.get_many(["a", "b"]) == [None, None]  # another generation: nothing answers
    source.generation = 1
    now[0] = 60.0
    assert cache.get_many(["a", "b"]) == [None, None]  # the time to live ran out
    now[0] = 0.0
    off: MicroCache[str] = MicroCache(ttl=lambda: 0)
    off.get_or_compute("a", source.compute)
    assert off.get_many(["a"]) == [None]
    assert len(off) == 0
