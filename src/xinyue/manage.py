"""The ``xinyue`` command: Django's manage.py, with start-up errors reduced to one clear line."""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping

# Commands that need the database before they can do anything useful.
DATABASE_COMMANDS = {
    "up",
    "runserver",
    "worker",
    "migrate",
    "seed-demo",
    "load-libraries",
    "create-api-key",
    "import-catalog",
    "check-workers",
    "sandbox-gateway",
    "rotate-keys",
}


# What the demo (``xinyue up``, run by ``make run``) switches on unless the environment says.
DEMO_DEFAULTS = {"up": {"XINYUE_CREDIT_SANDBOX": "1"}}


def demo_environment(argv: list[str], environ: MutableMapping[str, str]) -> None:
    """Defaults of the demo command, set before the settings are read (an explicit value wins)."""
    for name, value in DEMO_DEFAULTS.get(argv[1] if len(argv) > 1 else "", {}).items():
        environ.setdefault(name, value)


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyue.settings")
    demo_environment(argv, os.environ)
    from xinyue.config import ConfigError

    try:
        import django

        if len(argv) > 1 and argv[1] in DATABASE_COMMANDS:
            ensure_database_reachable()
        django.setup()
    except ConfigError as exc:
        sys.stderr.write(f"xinyue: {exc}\n")
        raise SystemExit(2) from None

    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


def ensure_database_reachable() -> None:
    """Fail fast, in one line, when the configured database cannot be reached."""
    from django.db import OperationalError, connection

    from xinyue.config import ConfigError

    try:
        connection.ensure_connection()
    except OperationalError as exc:
        settings = connection.settings_dict
        where = (
            settings["NAME"]
            if connection.vendor == "sqlite"
            else f"{settings.get('HOST') or 'localhost'}:{settings.get('PORT') or 5432}/{settings['NAME']}"
        )
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot reach the {connection.vendor} database at {where} ({reason}): "
            "start it or fix DATABASE_URL"
        ) from None


if __name__ == "__main__":
    main()
