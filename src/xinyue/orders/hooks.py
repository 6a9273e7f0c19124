"""What ordering needs from circulation, which sits above orders in the app order (DESIGN §3):
circulation registers its functions here in its ``AppConfig.ready``; orders never imports it.

- ``titles_on_loan(reader_ids, title_ids) -> set[(reader_id, title_id)]``: which of the titles
  the readers have on an open loan (the duplicate check of a batch of orders, one read);
- ``items_shipped(actor, lines)``: an item per shipped line (barcode, provenance), in the
  shipping transaction;
- ``loans_started(actor, order, lines)``: a platform loan per delivered line, in the delivery
  transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_registry: dict[str, Callable[..., Any]] = {}
NAMES = ("titles_on_loan", "items_shipped", "loans_started")


def register(name: str, function: Callable[..., Any]) -> None:
    if name not in NAMES:
        raise ValueError(f"unknown orders hook {name!r}")
    _registry[name] = function


def call(name: str, **kwargs: Any) -> Any:
    function = _registry.get(name)
    if function is None:
        raise ImproperlyConfigured(f"orders hook {name!r} is not registered (circulation app)")
    return function(**kwargs)
