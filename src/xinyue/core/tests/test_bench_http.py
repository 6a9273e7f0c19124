"""``xinyue bench http``: runs end to end against a tiny catalog and prints one JSON object last
(DESIGN §9). No timing is asserted: only that every kind was driven, answered without errors,
and set beside the ceiling and DESIGN §9's reference stack."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest

from xinyue.config import REPO_DIR

KINDS = {
    "home", "search_page", "title_page", "shelf_page",
    "api_picks", "api_search", "api_title", "api_shelf", "mixed",
    "search_page_cache_off", "api_search_cache_off",
}  # fmt: skip


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_the_http_bench_drives_every_kind_beside_the_ceiling(tmp_path):
    env = {
        k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings")
    command = [
        sys.executable, "-m", "xinyue.manage", "bench", "http", "--titles", "60",
        "--seconds", "10", "--concurrency", "2", "--workers", "1", "--threads", "2", "--json",
    ]  # fmt: skip
    out = subprocess.run(
        command,
        cwd=REPO_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["bench"] == "http"
    assert result["db"] == "sqlite"
    assert result["n"] == 60
    assert result["baseline"]["name"].startswith("ceiling: GET /api/v1/ping")
    assert result["baseline"]["requests"] > 0
    by_kind = result["ours"]["by_kind"]
    assert set(by_kind) == KINDS
    for kind, figures in by_kind.items():
        assert figures["requests"] > 0, kind
        assert figures["errors"] == 0, (kind, figures)
        assert figures["share_of_ceiling"] == round(
            figures["per_s"] / result["baseline"]["per_s"], 3
        )
        assert figures["share_of_reference"] == round(
            figures["per_s"] / result["reference"]["per_s"], 3
        )
        assert figures["server_cpu_ms"] > 0, kind
    reference = result["reference"]
    assert reference["name"].startswith("DESIGN §9's reference")
    assert reference["requests"] > 0
    assert reference["errors"] == 0
    cache = result["search_cache"]
    assert cache["hits"] > 0
    assert cache["misses"] > 0
    assert cache["hit_rate"] == round(cache["hits"] / (cache["hits"] + cache["misses"]), 3)
    [worker] = result["workers_memory_peak"]
    assert 0 < worker["uss_mb"] <= worker["rss_mb"]


def test_cpu_seconds_counts_a_process_and_its_children():
    from benchmarks.http import cpu_seconds

    child = subprocess.Popen([sys.executable, "-c", "sum(range(30_000_000)); input()"],
                             stdin=subprocess.PIPE, text=True)  # fmt: skip
    try:
        mine = cpu_seconds(child.pid)
        for _ in range(600):  # until the child's loop is done (it then waits for input)
            before, mine = mine, cpu_seconds(child.pid)
            if mine > 0.3 and mine == before:
                break
            subprocess.run(["sleep", "0.1"])
        assert mine > 0.3
        own = sum(os.times()[:2])  # this process alone (its children only once waited for)
        assert cpu_seconds(os.getpid()) - own >= mine - 0.05  # the child counts below it
        assert cpu_seconds(2**22 + 7) == 0.0  # no such process
    finally:
        child.communicate("")
