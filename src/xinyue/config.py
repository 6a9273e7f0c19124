"""Reading the environment into settings, with embedded defaults.

Kept apart from ``settings.py`` so that a bad setting raises one ``ConfigError`` whose message
says exactly what to fix; ``xinyue.manage`` turns it into a single line on stderr.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import dj_database_url

REPO_DIR = Path(__file__).resolve().parents[2]


class ConfigError(Exception):
    """A setting is wrong; the message tells the operator what to change."""


def data_dir() -> Path:
    """The writable data directory (SQLite files, generated keys); ``var/`` by default. It holds
    the database and the keys, so only its owner may enter it (0700)."""
    path = Path(os.environ.get("XINYUE_DATA_DIR") or REPO_DIR / "var").resolve()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"XINYUE_DATA_DIR={path} cannot be created ({exc.strerror}): point it at a writable folder"
        ) from exc
    restrict(path, 0o700)
    return path


def restrict(path: Path, mode: int) -> None:
    """Take group and other permissions away from ``path`` if we own it (never widen)."""
    try:
        info = path.stat()
        if info.st_uid == os.getuid() and info.st_mode & 0o077:
            path.chmod(info.st_mode & mode & 0o777)
    except OSError:
        pass  # not ours or gone: nothing to tighten


def private_file(path: Path) -> Path:
    """Create ``path`` empty with mode 0600 unless it exists (then tighten it to 0600). SQLite
    gives its -wal and -shm files the permissions of the database file."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    except OSError:
        return path  # unwritable: the database layer says so in its own words
    restrict(path, 0o600)
    return path


def secret_from_file(name: str, env_var: str, nbytes: int = 48) -> str:
    """Return ``env_var`` if set, else a secret kept in the data directory (made on first run)."""
    value = os.environ.get(env_var)
    if value:
        return value
    path = data_dir() / name
    if not path.exists():
        # Several processes start at once on a fresh data directory (web workers, the task
        # worker): the secret is written whole to a private temporary file, then linked into
        # place, which succeeds for exactly one of them; the others read the winner's secret.
        temporary = path.with_name(f".{name}.{os.getpid()}.{secrets.token_hex(4)}")
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(nbytes))
            with contextlib.suppress(FileExistsError):
                os.link(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    return path.read_text().strip()


def database_config() -> dict[str, Any]:
    """``DATABASE_URL`` (PostgreSQL) or the embedded SQLite database in the data directory."""
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return sqlite_config(private_file(data_dir() / "xinyue.sqlite3"))
    scheme = urlsplit(url).scheme
    if scheme not in {"postgres", "postgresql", "pgsql", "sqlite"}:
        raise ConfigError(
            f"DATABASE_URL is malformed (scheme {scheme or 'missing'!r}): "
            "use postgres://USER:PASSWORD@HOST:5432/NAME or leave it unset for SQLite"
        )
    try:
        config = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except ValueError as exc:
        raise ConfigError(
            f"DATABASE_URL is malformed ({exc}): "
            "use postgres://USER:PASSWORD@HOST:5432/NAME or leave it unset for SQLite"
        ) from exc
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return sqlite_config(Path(config["NAME"]))
    if not config.get("NAME"):
        raise ConfigError("DATABASE_URL names no database: add /NAME after the host")
    return config


def sqlite_config(path: Path) -> dict[str, Any]:
    """SQLite tuned for a web server plus workers: WAL, IMMEDIATE writes, a busy timeout.

    Memory per connection (each web thread has one) is bounded whatever the catalog's size: a
    page cache of ``XINYUE_SQLITE_CACHE_MB`` and no memory map unless ``XINYUE_SQLITE_MMAP_MB``
    asks for one (a map puts every page a worker touched into its RSS: ~190 MB at a million
    titles). The file's pages stay in the OS page cache, shared by every process. The web
    server's processes get 4 MB per connection (``core.server.web_command``)."""
    cache_mb = env_int("XINYUE_SQLITE_CACHE_MB", 16)
    mmap_mb = env_int("XINYUE_SQLITE_MMAP_MB", 0)
    if cache_mb < 1 or mmap_mb < 0:
        raise ConfigError(
            "XINYUE_SQLITE_CACHE_MB must be at least 1 and XINYUE_SQLITE_MMAP_MB at least 0"
        )
    return {
        "ENGINE": "xinyue.core.sqlite_backend",
        "NAME": str(path),
        # Kept open per thread: opening one costs its PRAGMAs and a fresh page cache and memory
        # map on every request (docs/decisions.md, "Search over HTTP").
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
                f"PRAGMA cache_size=-{cache_mb * 1024};PRAGMA mmap_size={mmap_mb * 1024 * 1024}"
            ),
        },
    }


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"{name}={value!r} is not a yes/no value: use 1 or 0")


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a whole number") from None


def env_str(name: str, default: str = "", *, empty_means_off: bool = False) -> str:
    """A text setting; unset means the default, and so does empty unless ``empty_means_off``
    (then an empty value is kept: the feature is switched off, e.g. a rate limit)."""
    value = os.environ.get(name)
    if value is None or (not value and not empty_means_off):
        return default
    return value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = (os.environ.get(name) or default).lower()
    if value not in choices:
        raise ConfigError(f"{name}={value!r} is not supported: use {' or '.join(choices)}")
    return value


def env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name}={value!r} is not a number (seconds, e.g. 10 or 2.5)") from None
    if not number >= 0:
        raise ConfigError(f"{name}={value!r} must be zero or more")
    return number


def huey_config(database: dict[str, Any], *, immediate: bool) -> dict[str, Any]:
    """Huey keeps its queue in the platform's own database engine (DESIGN §3)."""
    if database["ENGINE"] == "django.db.backends.postgresql":
        dsn = os.environ["DATABASE_URL"]
        return {
            "huey_class": "huey.PostgresHuey",
            "name": "xinyue",
            "immediate": immediate,
            # Tables are created by ``xinyue migrate`` (core migration) and ``xinyue worker``, not
            # at import time, so that an unreachable database fails with our one-line message.
            "connection": {
                "dsn": dsn.replace("postgres://", "postgresql://", 1),
                "create_tables": False,
            },
            "consumer": {"workers": 2, "worker_type": "thread"},
        }
    return {
        "huey_class": "xinyue.core.taskqueue.SqliteHuey",  # synchronous=NORMAL, as the database
        "name": "xinyue",
        "immediate": immediate,
        "connection": {"filename": str(private_file(data_dir() / "tasks.sqlite3"))},
        "consumer": {"workers": 2, "worker_type": "thread"},
    }
