"""A concurrency scenario for card issuing, run in-process (PostgreSQL) or as its own platform
instance on an SQLite file: ``python -m xinyue.cards.tests.card_race --migrate`` prints JSON."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from typing import Any

from django.db import connection
from stdnum.cn import ric


def id_number(n: int) -> str:
    body = f"33010619900101{n:03d}"
    return body + ric.calc_check_digit(body + "0")


def register(n: int) -> Any:
    from xinyue.readers.services.identity import register_reader

    return register_reader(
        id_number=id_number(n), name="测试读者", phone=f"138{n:08d}", password="read-more-books-7"
    )


def run_together(jobs: list[Callable[[], Any]]) -> list[Any]:
    """Start every job at the same moment, each on its own thread and database connection."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int, job: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = job()
        except Exception as exc:  # reported by the scenario
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def scenario() -> dict[str, Any]:
    """Eight readers get a card at one library at once; then one reader asks four times at once."""
    from xinyue.accounts.selectors import actor_for_user
    from xinyue.accounts.services import create_staff_user
    from xinyue.cards.errors import CardAlreadyHeld
    from xinyue.cards.models import Card, CardSeries
    from xinyue.cards.services.issuing import issue_deposit_card
    from xinyue.core.actors import SYSTEM
    from xinyue.libraries.models import Library

    hangzhou = Library.objects.get(code="330100")
    desk = actor_for_user(
        create_staff_user(
            actor=SYSTEM, library=hangzhou, username="race-desk", password="x" * 12, role="desk"
        )
    )

    def issue(reader: Any) -> Callable[[], Any]:
        return lambda: issue_deposit_card(
            actor=desk, reader=reader, library=hangzhou, deposit_fen=10000
        )

    many = run_together([issue(register(n)) for n in range(1, 9)])
    twice = register(42)
    same = run_together([issue(twice)] * 4)
    return {
        "numbers": sorted(c.number for c in many if isinstance(c, Card)),
        "errors": [
            repr(e)
            for e in many + same
            if isinstance(e, Exception) and not isinstance(e, CardAlreadyHeld)
        ],
        "last_number": CardSeries.objects.get(library=hangzhou).last_number,
        "same_reader_cards": Card.objects.filter(reader=twice).count(),
        "same_reader_refused": sum(isinstance(r, CardAlreadyHeld) for r in same),
    }


EXPECTED = {
    "numbers": [f"330100{n:08d}" for n in range(1, 9)],
    "errors": [],
    "last_number": 9,
    "same_reader_cards": 1,
    "same_reader_refused": 3,
}


def main() -> None:
    import django

    django.setup()
    if "--migrate" in sys.argv:
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
    sys.stdout.write(json.dumps(scenario()) + "\n")


if __name__ == "__main__":
    main()
