"""A test kiosk speaking SIP2 to our server over a real socket, through our own codec."""

from __future__ import annotations

import socket

from xinyue.sip2.codec import FIXED_LENGTHS, Message, decode, encode

DATE = "20261130    120000"


class Kiosk:
    def __init__(
        self, port: int, *, charset: str = "gbk", error_detection: bool = True, crlf: bool = False
    ) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.charset = charset
        self.error_detection = error_detection
        self.crlf = crlf
        self.sequence = 0
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Kiosk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def frame(self, body: str) -> bytes:
        data = encode(
            body,
            encoding=self.charset,
            sequence=self.sequence,
            error_detection=self.error_detection,
        )
        self.sequence = (self.sequence + 1) % 10
        return data + (b"\n" if self.crlf else b"")

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def read_raw(self) -> bytes:
        while b"\r" not in self.buffer:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r", 1)
        return line + b"\r"

    def read(self) -> Message:
        raw = self.read_raw()
        command = raw[:2].decode("ascii")
        return decode(raw, encoding=self.charset, fixed_length=FIXED_LENGTHS[command])

    def ask(self, body: str) -> Message:
        self.send_raw(self.frame(body))
        return self.read()

    def login(self, login: str = "kiosk-1", password: str = "kiosk-pass-1") -> Message:
        return self.ask(f"9300CN{login}|CO{password}|CPdesk-1|")

    def closed_by_server(self) -> bool:
        try:
            return self.sock.recv(1) == b""
        except ConnectionError:
            return True
