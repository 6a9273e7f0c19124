"""Hooks: how a lower app calls code that a higher app supplies (DESIGN §3: apps import in one
direction, so a lower app cannot import the app above it).

The lower app declares a ``Hook`` at module level, named after what it asks for; the higher app
registers its function (or value) in its ``AppConfig.ready``. Every such point in the code base
is a ``Hook`` — one way to offer, register, call and list them (``ALL``, shown in
docs/architecture.md) — instead of a hand-made list or dict per app.

- ``Hook(name, one=True)``: exactly one function answers (``hook(...)`` calls it; a missing
  registration is a configuration error, raised at the call, never a silent no-op).
- ``Hook(name)``: any number of functions, called in registration order (``hook.each(...)``
  returns their answers).
- ``register(value, key=...)``: values under a key (how each card-check method verifies a card,
  the popularity sources by name); ``hook.get(key)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.core.exceptions import ImproperlyConfigured

T = TypeVar("T")

ALL: dict[str, Hook[Any]] = {}


class Hook(Generic[T]):
    """One registration point (see the module's docstring)."""

    def __init__(self, name: str, *, one: bool = False) -> None:
        if name in ALL:
            raise ValueError(f"hook {name!r} declared twice")
        self.name = name
        self.one = one
        self._values: dict[Any, T] = {}
        ALL[name] = self

    def register(self, value: T, *, key: str | None = None) -> Callable[[], None]:
        """Add ``value`` (under ``key`` when given, replacing what was there). Registering the same
        value again is a no-op, so ``ready()`` may run twice. Returns a function that removes it
        again, for tests that plug in a hook of their own."""
        slot: Any = key if key is not None else ("value", id(value))
        if self.one and self._values and slot not in self._values:
            raise ImproperlyConfigured(f"hook {self.name!r} takes one function; one is registered")
        self._values[slot] = value

        def remove() -> None:
            if self._values.get(slot) is value:
                del self._values[slot]

        return remove

    def values(self) -> list[T]:
        return list(self._values.values())

    def get(self, key: str) -> T | None:
        return self._values.get(key)

    def keys(self) -> list[str]:
        return [key for key in self._values if isinstance(key, str)]

    def __bool__(self) -> bool:
        return bool(self._values)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """The one registered function's answer."""
        if not self.one:
            raise TypeError(f"hook {self.name!r} takes many functions: use each()")
        if not self._values:
            raise ImproperlyConfigured(f"nothing is registered for hook {self.name!r}")
        function: Any = next(iter(self._values.values()))
        return function(*args, **kwargs)

    def each(self, *args: Any, **kwargs: Any) -> list[Any]:
        """Every registered function's answer, in registration order."""
        return [function(*args, **kwargs) for function in self.values()]  # type: ignore[operator]

    def __repr__(self) -> str:
        return f"Hook({self.name!r}, {len(self._values)} registered)"
