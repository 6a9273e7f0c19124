"""``xinyue bench orders``: the service phase in one process and split over processes, end to end
on a fresh SQLite file (DESIGN §9). No timing is asserted: that every attempt was answered, that
what the clients were told matches the rows, and that neither phase oversold."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from xinyue.config import REPO_DIR


@pytest.mark.slow
def test_the_orders_bench_splits_the_service_phase_over_processes_without_overselling(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(
        XINYUE_DATA_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="xinyue.settings",
        XINYUE_CREDIT_INTERACTIVE_TIMEOUT="30",  # admitting the readers is set-up
    )
    command = [
        sys.executable, "-m", "xinyue.manage", "bench", "orders", "--clients", "4",
        "--orders", "16", "--no-http", "--processes", "2", "--json",
    ]  # fmt: skip
    out = subprocess.run(
        command, cwd=REPO_DIR, env=env, capture_output=True, text=True, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    # 16 attempts per phase on 4 titles × 2 copies, a budget of 6 volumes, a quota of 2 each.
    assert result["limits"] == {
        "stock_per_title": 2, "titles": 4, "budget_fen": 6 * 3000, "quota": 2,
    }  # fmt: skip
    for phase in (result["ours"], result["processes"]):
        assert phase["errors"] == 0, phase["first_errors"]
        assert phase["placed"] + phase["refused"] == 16
        assert 0 < phase["placed"] <= 6  # the budget binds
        assert phase["placed_rows"] == phase["placed"]
        assert phase["oversold"] == 0
        assert phase["oversold_by"] == {"stock": 0, "quota": 0, "budget": 0}
    assert result["processes"]["processes"] == 2
    assert result["baseline"]["name"] == "read-check-write"  # its overselling depends on timing
