"""Ordering never oversells stock, quota or budget under concurrent clients, and one idempotency
key submitted many times at once makes one order (scenarios in ``order_race``): PostgreSQL in-process, SQLite as its own instance on a database file (WAL,
IMMEDIATE transactions), because the in-memory test database cannot make writers wait."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.db import connection

from xinyue.orders.tests import order_race

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.slow
def test_concurrent_orders_on_an_sqlite_file(tmp_path):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite scenario; PostgreSQL runs in-process")
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        XINYUE_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="xinyue.settings_test",
        # Admitting the scenario's readers is set-up, not what is tested: on a loaded machine the
        # in-process sandbox can take longer than the 2 s a reader's page would wait.
        XINYUE_CREDIT_INTERACTIVE_TIMEOUT="30",
    )
    done = subprocess.run(
        [sys.executable, "-m", "xinyue.orders.tests.order_race", "--migrate"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["race"] == order_race.EXPECTED
    assert result["idempotency"] == order_race.EXPECTED_IDEMPOTENCY


def test_concurrent_orders_on_postgresql(zhejiang, settings, tmp_path):
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL scenario; SQLite runs on a database file in its own process")
    settings.CREDIT_KEY_DIR = tmp_path
    assert order_race.scenario() == order_race.EXPECTED
    assert order_race.idempotency_scenario() == order_race.EXPECTED_IDEMPOTENCY
