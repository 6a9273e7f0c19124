"""``core.exiting.at_exit``: exit work runs once in a plain process and in a ``multiprocessing``
worker (the web server's workers are those, and ``atexit`` never runs in them)."""

from __future__ import annotations

import multiprocessing
import subprocess
import sys
from pathlib import Path


def _append(path: str) -> None:
    with Path(path).open("a") as out:
        out.write("flushed\n")


def _worker(path: str) -> None:
    from xinyue.core.exiting import at_exit

    at_exit(lambda: _append(path))


def test_exit_work_runs_once_in_a_multiprocessing_worker(tmp_path):
    out = tmp_path / "out.txt"
    process = multiprocessing.get_context("spawn").Process(target=_worker, args=(str(out),))
    process.start()
    process.join(60)
    assert process.exitcode == 0
    assert out.read_text() == "flushed\n"


def test_exit_work_runs_once_in_a_plain_process(tmp_path):
    out = tmp_path / "out.txt"
    code = (
        "from xinyue.core.exiting import at_exit\n"
        "from xinyue.core.tests.test_exiting import _append\n"
        f"at_exit(lambda: _append({str(out)!r}))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert out.read_text() == "flushed\n"
