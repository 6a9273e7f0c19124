"""SQLite writers of different processes queue on the lock file beside the database: a writer
waits while another process holds it and goes ahead as soon as that process lets go."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest
from django.db import connection, transaction

from xinyue.core.sqlite_writer import sqlite_writer

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


@pytest.fixture
def database_file(tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only: PostgreSQL queues writers on row locks")
    name = tmp_path / "xinyue.sqlite3"
    monkeypatch.setitem(connection.settings_dict, "NAME", str(name))
    return name


@pytest.fixture
def holder(database_file):
    """Another process holding the database's lock file until a line reaches its stdin."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, f"{database_file}-writer.lock"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        process.kill()
        process.wait()


def test_a_writer_waits_for_another_process_and_then_goes_ahead(holder):
    entered, left = threading.Event(), threading.Event()

    def write() -> None:
        with sqlite_writer():
            entered.set()
        left.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert not entered.wait(0.5)  # the other process holds the writer's place
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert entered.wait(30)
    assert left.wait(30)
    writer.join()


def test_a_database_in_memory_needs_no_lock_file(tmp_path, monkeypatch):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    monkeypatch.setitem(connection.settings_dict, "NAME", ":memory:")
    monkeypatch.chdir(tmp_path)  # where a lock file named after ":memory:" would appear
    with sqlite_writer():
        pass
    assert list(tmp_path.iterdir()) == []


def test_inside_a_transaction_it_never_waits_for_the_file(database_file, holder):
    """A transaction on SQLite holds the write lock from its ``BEGIN IMMEDIATE``: waiting for the
    file there could wait for a process that waits, in SQLite, for us."""
    done = threading.Event()

    def write() -> None:
        connection.settings_dict["NAME"] = str(database_file)  # this thread's connection
        connection.in_atomic_block = True  # as inside ``transaction.atomic()``
        try:
            with sqlite_writer():
                done.set()
        finally:
            connection.in_atomic_block = False

    writer = threading.Thread(target=write)
    writer.start()
    assert done.wait(30)  # went ahead while the other process holds the file's lock
    writer.join()


FREE = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
except BlockingIOError:
    print("held")
else:
    print("free")
"""


def _lock_file_state(database_file) -> str:
    """Whether another process finds the writer's place free right now."""
    return subprocess.run(
        [sys.executable, "-c", FREE, f"{database_file}-writer.lock"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def _in_thread(database_file, blocker, body) -> threading.Thread:
    """Run ``body`` in a thread with its own connection to the file database."""

    def run() -> None:
        connection.settings_dict["NAME"] = str(database_file)
        with blocker.unblock():
            try:
                body()
            finally:
                connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_a_transaction_queues_behind_another_process(database_file, holder, django_db_blocker):
    """Any transaction, not only placing's: the background worker's writes wait in the same
    queue as the web server's instead of in SQLite's busy handler."""
    entered = threading.Event()

    def write() -> None:
        with transaction.atomic():
            entered.set()

    writer = _in_thread(database_file, django_db_blocker, write)
    assert not entered.wait(0.5)  # the other process holds the writer's place
    holder.stdin.write("\n")
    holder.stdin.flush()
    assert entered.wait(30)
    writer.join()


def test_the_place_is_given_back_when_the_transaction_ends(database_file, django_db_blocker):
    states: list[str] = []

    def write() -> None:
        with transaction.atomic():
            connection.cursor().execute("CREATE TABLE IF NOT EXISTS t (x int)")
            states.append(_lock_file_state(database_file))
        states.append(_lock_file_state(database_file))  # committed
        try:
            with transaction.atomic():
                connection.cursor().execute("INSERT INTO t VALUES (1)")
                raise RuntimeError("the block fails: rolled back")
        except RuntimeError:
            pass
        states.append(_lock_file_state(database_file))  # rolled back
        with sqlite_writer(), transaction.atomic():  # holds nest
            states.append(_lock_file_state(database_file))
        states.append(_lock_file_state(database_file))
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM t")
            states.append(str(cursor.fetchone()[0]))

    _in_thread(database_file, django_db_blocker, write).join()
    assert states == ["held", "free", "free", "held", "free", "0"]
