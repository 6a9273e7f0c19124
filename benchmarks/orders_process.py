"""One process of the orders bench's multi-process service phase (``xinyue bench orders
--processes N``): started by ``benchmarks.orders._run_processes`` with the job on stdin, it sets
up Django on its own connections and runs its share of the clients (``serve_placing_process``).
A separate module because ``benchmarks.orders`` imports models, which needs Django set up
first."""

from __future__ import annotations

import os
import sys

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "xinyue.settings")
    django.setup()
    from django.conf import settings

    settings.CREDIT_SANDBOX_ENABLED = True  # as in the parent: a bench database

    from benchmarks import orders

    orders.serve_placing_process(sys.stdin, sys.stdout)


if __name__ == "__main__":
    main()
