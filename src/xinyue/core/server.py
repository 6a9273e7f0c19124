"""The web server command line, in one place: ``xinyue serve``, ``xinyue up`` and the tests that
start a real server all run exactly this.

Granian (a Rust HTTP server) reads and parses every request before Python sees it, so a client
that dribbles its headers holds a socket in the server's event loop, never one of the threads that
run Django (docs/decisions.md, "The web server: Granian").
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

LOG_CONFIG = Path(__file__).resolve().parent / "data" / "server-logging.json"
# The web workers' SQLite page cache per connection (MB); other processes keep
# ``XINYUE_SQLITE_CACHE_MB``'s default (config.py), sized for imports and indexing.
WEB_SQLITE_CACHE_MB = 4
# The query string goes through ``AccessLogRedactingFilter`` (decoded, PII masked) first.
ACCESS_LOG_FORMAT = (
    '%(time)s %(addr)s "%(method)s %(path)s%(query_string)s %(protocol)s" %(status)d %(dt_ms).1fms'
)


def web_command(
    *, host: str, port: int, workers: int, threads: int = 4, access_log: bool = True
) -> list[str]:
    """``threads`` per worker process run Django; they wait on the database, so a few per core."""
    command = [
        sys.executable, "-m", "granian", "--interface", "wsgi",
        "--host", host, "--port", str(port),
        "--workers", str(workers), "--blocking-threads", str(threads),
        "--respawn-failed-workers", "--workers-kill-timeout", "10",
        "--http1-header-read-timeout", "15000",
        "--log-config", str(LOG_CONFIG),
    ]  # fmt: skip
    if access_log:
        command += ["--access-log", "--access-log-fmt", ACCESS_LOG_FORMAT]
    else:
        command += ["--no-access-log"]
    command.append("xinyue.wsgi:application")
    # Set for the server's processes, read at their start; an explicit value in the environment
    # wins. glibc gives each thread that allocates its own malloc arena; one per process keeps a
    # worker's heap in one piece and cost no throughput in a quiet A/B (the threads take turns
    # on the GIL anyway; docs/decisions.md, "Web workers: what a worker loads"). Each thread
    # keeps its own SQLite connection, and each connection its page cache: 4 MB each instead
    # of 16 bounds a worker's four at 16 MB, and the heap they leave behind when another
    # connection's write discards them; no cost in CPU per search showed that the runs could
    # resolve (the file's pages stay in the operating system's cache; docs/decisions.md,
    # "Worker memory: SQLite's page caches").
    defaults = {"MALLOC_ARENA_MAX": "1", "XINYUE_SQLITE_CACHE_MB": str(WEB_SQLITE_CACHE_MB)}
    assignments = [f"{name}={value}" for name, value in defaults.items() if name not in os.environ]
    env = shutil.which("env")
    if assignments and env:
        command = [env, *assignments, *command]
    return command
