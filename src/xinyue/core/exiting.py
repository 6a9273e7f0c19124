"""Work a process does on its way out (write buffered usage events, log figures), in every kind
of process we run.

``atexit`` alone is not enough: the web server's workers (Granian) are ``multiprocessing``
children, and a ``multiprocessing`` child leaves through ``os._exit`` after running only its
own finalizers, so ``atexit`` handlers never run there — a worker's last second of buffered
events was lost at every restart. ``at_exit`` registers both; whichever comes first runs the
function, once.
"""

from __future__ import annotations

import atexit
import logging
import threading
from collections.abc import Callable
from multiprocessing import util as mp_util

log = logging.getLogger(__name__)


def at_exit(func: Callable[[], object]) -> None:
    """Run ``func`` once when this process ends normally (a plain interpreter exit or the end
    of a ``multiprocessing`` worker)."""
    done = threading.Event()

    def once() -> None:
        if done.is_set():
            return
        done.set()
        try:
            func()
        except Exception:  # pragma: no cover - shutting down: say so, never mask the exit
            log.exception("exit work %r failed", func)

    atexit.register(once)
    mp_util.Finalize(None, once, exitpriority=10)
