"""Django's SQLite ``DatabaseWrapper`` whose transactions queue for the writer's place.

A transaction's ``BEGIN IMMEDIATE`` takes SQLite's write lock; before it, the connection takes
its place in ``core.sqlite_writer``'s queue (an ``flock``), and gives it back when the
transaction ends (commit, rollback, or the connection closing). Writers of every process —
the web server's, the background worker's, a command's — so wait in the kernel's queue, woken
the moment the writer before them ends, instead of sleeping in SQLite's busy handler.
"""

from __future__ import annotations

from django.db.backends.sqlite3 import base

from xinyue.core import sqlite_writer


class DatabaseWrapper(base.DatabaseWrapper):
    _transaction_holds_writer = False

    def _start_transaction_under_autocommit(self) -> None:
        self._transaction_holds_writer = sqlite_writer.take(self)
        try:
            super()._start_transaction_under_autocommit()
        except BaseException:
            self._end_writer(closing=True)
            raise

    def _commit(self) -> None:
        try:
            super()._commit()
        finally:
            self._end_writer()

    def _rollback(self) -> None:
        try:
            super()._rollback()
        finally:
            self._end_writer()

    def _close(self) -> None:
        try:
            super()._close()
        finally:
            self._end_writer(closing=True)

    def _end_writer(self, *, closing: bool = False) -> None:
        """Give the place back once the transaction that took it is over (a failed COMMIT
        leaves it open: the rollback that follows ends it)."""
        if not self._transaction_holds_writer:
            return
        if closing or self.connection is None or not self.connection.in_transaction:
            self._transaction_holds_writer = False
            sqlite_writer.give_back(self)
