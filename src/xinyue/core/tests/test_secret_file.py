"""A fresh data directory is opened by several processes at once (web workers and the task
worker of ``make run``): they must all end up with one secret, never an empty or a second one."""

from __future__ import annotations

import multiprocessing

from xinyue import config


def _read_secret(data_dir: str, queue: multiprocessing.Queue, start: object) -> None:
    import os

    start.wait()  # type: ignore[attr-defined]  # all six at the same moment
    os.environ["XINYUE_DATA_DIR"] = data_dir
    os.environ.pop("XINYUE_TEST_ONLY_SECRET", None)
    queue.put(config.secret_from_file("secret_key", "XINYUE_TEST_ONLY_SECRET"))


def test_processes_starting_together_share_one_secret(tmp_path):
    context = multiprocessing.get_context("fork")
    for round_ in range(40):
        data_dir = tmp_path / f"round-{round_}"
        data_dir.mkdir()
        queue = context.Queue()
        start = context.Barrier(6)
        processes = [
            context.Process(target=_read_secret, args=(str(data_dir), queue, start))
            for _ in range(6)
        ]
        for process in processes:
            process.start()
        for process in processes:
            process.join()
        secrets = {queue.get() for _ in processes}
        assert len(secrets) == 1, round_
        (secret,) = secrets
        assert len(secret) >= 60
        assert (data_dir / "secret_key").read_text() == secret
        assert [p.name for p in data_dir.iterdir()] == ["secret_key"]  # no temporary file left
