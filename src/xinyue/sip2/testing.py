"""A member library's own system (an ACS) speaking SIP2 on a loopback port, for tests and demos.

It is a real TCP server: it reads CR-terminated messages, checks their checksum (answering 96 when
it is wrong, as an ACS does), answers 93 Login with 94 and 63 Patron Information with 64 from its
own patron table, in its own encoding. Faults can be switched on to exercise the client.
"""

from __future__ import annotations

import socketserver
import threading
from dataclasses import dataclass, field

from xinyue.sip2.codec import Message, checksum, decode, encode, transaction_date

PATRON_OK = " " * 14
PATRON_BLOCKED = "YYYY" + " " * 10


@dataclass
class FakePatron:
    password: str
    name: str = ""
    status: str = PATRON_OK


@dataclass
class FakeAcs:
    """``with FakeAcs(patrons={...}) as acs: ... acs.port ...``; ``acs.received`` holds raw bytes."""

    patrons: dict[str, FakePatron] = field(default_factory=dict)
    encoding: str = "utf-8"
    institution_id: str = ""
    login: tuple[str, str] | None = None  # (user, password) the ACS accepts; None: no login needed
    line_ending: bytes = b"\r"
    faults: set[str] = field(default_factory=set)  # bad_checksum_once, wrong_sequence, silent
    received: list[bytes] = field(default_factory=list)

    def __post_init__(self) -> None:
        acs = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self) -> None:
                acs._serve(self)

        self._server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.host, self.port = self._server.server_address[:2]
        self._lock = threading.Lock()
        self._checksum_fault_used = False

    def __enter__(self) -> FakeAcs:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    # --- protocol -------------------------------------------------------------------------

    def _serve(self, handler: socketserver.StreamRequestHandler) -> None:
        logged_in = self.login is None
        last_reply = b""
        buffer = b""
        while True:
            chunk = handler.request.recv(4096)
            if not chunk:
                return
            buffer += chunk
            while b"\r" in buffer:
                raw, buffer = buffer.split(b"\r", 1)
                raw = raw.lstrip(b"\n")
                with self._lock:
                    self.received.append(raw + b"\r")
                if "silent" in self.faults:
                    continue
                command = raw[:2].decode("ascii", "replace")
                if command == "97":
                    handler.request.sendall(last_reply)
                    continue
                az = raw.rfind(b"AZ")
                if az == -1 or checksum(raw[: az + 2]).encode() != raw[az + 2 :]:
                    handler.request.sendall(b"96" + self.line_ending)
                    continue
                fixed = {"93": 2, "63": 31}.get(command)
                if fixed is None:
                    return  # an ACS drops a client speaking messages it does not support
                message = decode(raw, encoding=self.encoding, fixed_length=fixed)
                sequence = message.sequence or 0
                if "wrong_sequence" in self.faults:
                    sequence = (sequence + 1) % 10
                if command == "93":
                    ok = self.login == (message.get("CN"), message.get("CO"))
                    logged_in = logged_in or ok
                    body = "94" + ("1" if ok else "0")
                elif not logged_in:
                    return
                else:
                    body = self._patron_information(message)
                last_reply = encode(body, encoding=self.encoding, sequence=sequence)
                reply = last_reply
                if "bad_checksum_once" in self.faults and not self._checksum_fault_used:
                    self._checksum_fault_used = True
                    reply = reply[:-5] + b"0000\r"
                handler.request.sendall(reply[:-1] + self.line_ending)

    def _patron_information(self, message: Message) -> str:
        card = message.get("AA")
        password = message.get("AD")
        patron = self.patrons.get(card)
        status = patron.status if patron else PATRON_OK
        body = f"64{status}000{transaction_date()}" + "0000" * 6
        body += f"AO{self.institution_id}|AA{card}|"
        if patron is None:
            return body + "AE|BLN|CQN|AF读者证不存在|"
        valid_password = bool(password) and password == patron.password
        body += f"AE{patron.name}|BLY|CQ{'Y' if valid_password else 'N'}|"
        if not valid_password:
            body += "AF密码错误|"
        return body


class RunningSip2Server:
    """Our SIP2 server on a loopback port, its event loop in a background thread:
    ``with RunningSip2Server() as server: socket.create_connection(("127.0.0.1", server.port))``."""

    def __init__(self, **options: object) -> None:
        from xinyue.sip2.server import ServerOptions

        self.options = ServerOptions(host="127.0.0.1", port=0, **options)  # type: ignore[arg-type]
        self.port = 0

    def __enter__(self) -> RunningSip2Server:
        import asyncio

        from xinyue.sip2.server import Sip2Server

        self._loop = asyncio.new_event_loop()
        self._server = Sip2Server(self.options)
        started = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self.port = self._loop.run_until_complete(self._server.start())
            started.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        if not started.wait(10):
            raise RuntimeError("the SIP2 server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        import asyncio

        asyncio.run_coroutine_threadsafe(self._server.stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
