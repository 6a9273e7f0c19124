"""The SIP2 server for self-service kiosks: ``xinyue sip2 --port 6001``.

One asyncio event loop holds every kiosk connection (a kiosk keeps its socket open all day and
talks a few times a minute, so hundreds of them are mostly idle sockets); each request's Django
work (ORM, password hashes, circulation services) runs in a bounded thread pool, so the number of
database connections is the pool's size, never the number of kiosks.

Per connection: the kiosk session (account after 93), the last reply (for 97), an idle timeout.
Frames end with CR (an LF after it, CRLF, is skipped); a frame longer than ``max_frame`` bytes
closes that connection; a frame with a wrong or (when the account requires it) missing checksum is
answered with 96; an unknown command is logged and dropped. Nothing one connection sends can reach
another's state.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass, field

from django.db import close_old_connections, connection, connections

from xinyue.sip2.acs import SUPPORTED, KioskSession, NotLoggedIn
from xinyue.sip2.codec import REQUEST_FIXED_LENGTHS, Sip2ProtocolError, decode, encode

logger = logging.getLogger(__name__)

TERMINATOR = b"\r"
WRITES = frozenset({"11", "09", "29"})  # the messages that change loans


@dataclass
class ServerOptions:
    host: str = "127.0.0.1"
    port: int = 6001
    threads: int = 8  # Django work at once (and so database connections)
    idle_timeout: float = 600.0  # seconds without a frame before the connection is closed
    max_frame: int = 4096  # bytes, terminator excluded
    max_connections: int = 2000


@dataclass
class Connection:
    session: KioskSession = field(default_factory=KioskSession)
    last_reply: bytes = b""


class Sip2Server:
    """``server = Sip2Server(options); await server.start(); ...; await server.stop()``."""

    def __init__(self, options: ServerOptions) -> None:
        self.options = options
        self._pool = ThreadPoolExecutor(
            max_workers=max(1, options.threads), thread_name_prefix="sip2"
        )
        # SQLite admits one writer: its busy handler polls with growing sleeps, so writing threads
        # of one process starve each other ("database is locked", measured with 8 threads). On
        # SQLite the messages that change loans run one at a time on their own thread; reads
        # keep the pool. PostgreSQL queues writers on row locks and needs nothing.
        self._writer = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="sip2-writer")
            if connection.vendor == "sqlite"
            else self._pool
        )
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self.port = options.port

    async def start(self) -> int:
        self._server = await asyncio.start_server(
            self._serve,
            self.options.host,
            self.options.port,
            limit=self.options.max_frame + 2,
            backlog=1024,
        )
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def serve_forever(self) -> None:
        assert self._server is not None
        async with self._server:
            await self._server.serve_forever()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()  # no new connections
        for writer in list(self._writers):
            writer.close()
        # Each pool thread keeps its database connection (CONN_MAX_AGE); close them all.
        await asyncio.to_thread(_close_connections, self._pool, max(1, self.options.threads))
        if self._writer is not self._pool:
            await asyncio.to_thread(_close_connections, self._writer, 1)
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._writer.shutdown(wait=False, cancel_futures=True)

    # --- one connection ----------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._writers) >= self.options.max_connections:
            writer.close()
            return
        self._writers.add(writer)
        connection = Connection()
        try:
            while True:
                frame = await self._read_frame(reader)
                if frame is None:
                    return
                if not frame:
                    continue  # a blank line, or the LF of a CRLF
                reply = await self._answer(connection, frame)
                if reply is None:
                    return  # hang up
                if reply:
                    writer.write(reply)
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            self._writers.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    async def _read_frame(self, reader: asyncio.StreamReader) -> bytes | None:
        """The next frame without its terminator; None to close (EOF, idle, too long)."""
        try:
            raw = await asyncio.wait_for(
                reader.readuntil(TERMINATOR), timeout=self.options.idle_timeout
            )
        except (TimeoutError, asyncio.IncompleteReadError):
            return None
        except asyncio.LimitOverrunError:
            logger.info(
                "SIP2 frame longer than %d bytes: connection closed", self.options.max_frame
            )
            return None
        return raw[:-1].lstrip(b"\r\n")

    async def _answer(self, connection: Connection, frame: bytes) -> bytes | None:
        """The reply's bytes (empty: no reply), or None to hang up."""
        session = connection.session
        command = frame[:2].decode("ascii", "replace")
        if command == "97":
            return connection.last_reply or self._resend_request(session)
        fixed = REQUEST_FIXED_LENGTHS.get(command)
        if fixed is None or command not in SUPPORTED:
            logger.info("SIP2 command %r not supported: dropped", command)
            return b"" if session.account is not None else None
        try:
            message = decode(frame, encoding=session.charset, fixed_length=fixed)
        except Sip2ProtocolError as exc:
            logger.info("SIP2 malformed %s: %s", command, exc)
            return self._resend_request(session)
        if message.checksum_ok is False or (
            message.checksum_ok is None and session.error_detection_required and command != "93"
        ):
            return self._resend_request(session)
        loop = asyncio.get_running_loop()
        try:
            pool = self._writer if command in WRITES else self._pool
            body = await loop.run_in_executor(pool, _in_django, session, message)
        except NotLoggedIn:
            return None
        except Exception:
            logger.exception("SIP2 %s failed", command)
            return None
        reply = encode(
            body,
            encoding=session.charset,
            sequence=message.sequence,
            error_detection=message.checksum_ok is not None or session.error_detection_required,
            errors="replace",
        )
        connection.last_reply = reply
        return reply

    @staticmethod
    def _resend_request(session: KioskSession) -> bytes:
        """96: "send that again" (a wrong checksum, a garbled frame)."""
        return encode("96", encoding="ascii", error_detection=session.error_detection_required)


def _close_connections(pool: ThreadPoolExecutor, threads: int) -> None:
    """Run one task on every thread of ``pool`` (a barrier holds each until all have one) that
    closes that thread's database connections: a connection can only be closed by its thread."""
    barrier = threading.Barrier(threads)

    def close() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            barrier.wait(timeout=5)
        connections.close_all()

    wait_for_futures([pool.submit(close) for _ in range(threads)], timeout=15)


def _in_django(session: KioskSession, message) -> str:
    """One request's Django work, on a pool thread (its own database connection)."""
    close_old_connections()
    try:
        return session.handle(message)
    finally:
        close_old_connections()


def run(options: ServerOptions, *, announce: Callable[[str], object] = logger.warning) -> None:
    """Serve until interrupted (the management command); ``announce`` hears the bound address."""

    async def main() -> None:
        server = Sip2Server(options)
        port = await server.start()
        announce(f"SIP2 server listening on {options.host}:{port}")
        try:
            await server.serve_forever()
        finally:
            await server.stop()

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(main())
