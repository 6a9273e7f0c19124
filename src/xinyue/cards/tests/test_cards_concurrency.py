"""Card numbers and the one-card rule under concurrent requests: real threads, each on its own
database connection (scenario in ``card_race``).

PostgreSQL runs in-process (transactional test). SQLite runs as its own platform instance on a
database *file* (WAL, IMMEDIATE transactions: the embedded production configuration), because
the in-memory test database shares one cache between threads, which fails concurrent writers with
"table is locked" instead of making them wait as an SQLite file does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from xinyue.cards.tests import card_race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow
def test_concurrent_issues_on_an_sqlite_file(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite scenario; PostgreSQL runs in-process")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings_test")
    done = subprocess.run(
        [sys.executable, "-m", "xinyue.cards.tests.card_race", "--migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1]) == card_race.EXPECTED


def test_concurrent_issues_on_postgresql(zhejiang):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL scenario; SQLite runs on a database file in its own process")
    assert card_race.scenario() == card_race.EXPECTED
