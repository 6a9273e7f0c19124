"""A SIP2 client: the platform asking a member library's own system (its ACS) about a patron.

Used to verify an existing library card when a reader links it (93 Login when the library gives
us an account, then 63 Patron Information → 64). One TCP connection per check; every message
carries a sequence number (``AY``) and a checksum (``AZ``) computed over the encoded bytes, a reply
whose checksum fails is asked for again once (97), and a reply to another sequence number is
refused. The patron password never appears in exceptions or logs.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from types import TracebackType

from xinyue.sip2.codec import (
    ENCODINGS,
    FIXED_LENGTHS,
    TERMINATOR,
    Message,
    Sip2ProtocolError,
    decode,
    encode,
    field_value,
    transaction_date,
)

MAX_MESSAGE_BYTES = 64 * 1024
LANGUAGE_UNKNOWN = "000"
SUMMARY_NONE = " " * 10


class Sip2Unavailable(Exception):
    """The library's system could not answer (connection, timeout, login refused, garbled reply)."""


@dataclass(frozen=True)
class Sip2Settings:
    host: str
    port: int
    encoding: str = "utf-8"
    login_user: str = ""
    login_password: str = ""
    location_code: str = ""
    institution_id: str = ""
    terminal_password: str = ""
    timeout: float = 5.0
    error_detection: bool = True

    def __post_init__(self) -> None:
        if self.encoding not in ENCODINGS:
            raise ValueError(f"unsupported SIP2 encoding {self.encoding!r}")


@dataclass(frozen=True)
class PatronInformation:
    """What a 64 response says about a patron (only what the platform needs)."""

    patron_identifier: str
    institution_id: str
    valid_patron: bool | None  # BL
    valid_password: bool | None  # CQ
    patron_status: str  # the 14 Y/space flags (Y = privilege denied)
    personal_name: str  # AE; personal data: never stored or logged by the platform
    screen_message: str  # AF

    @property
    def blocked(self) -> bool:
        """Charge, renewal and recall privileges all denied: a card the library has blocked."""
        return self.patron_status[:3] == "YYY"


class Sip2Client:
    """``with Sip2Client(settings) as client: client.patron_information(...)``."""

    def __init__(self, settings: Sip2Settings) -> None:
        self.settings = settings
        self._socket: socket.socket | None = None
        self._buffer = b""
        self._sequence = 0

    # --- connection -----------------------------------------------------------------------

    def __enter__(self) -> Sip2Client:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> None:
        try:
            self._socket = socket.create_connection(
                (self.settings.host, self.settings.port), timeout=self.settings.timeout
            )
        except OSError as exc:
            raise Sip2Unavailable(f"cannot connect: {type(exc).__name__}") from None
        if self.settings.login_user:
            self.login()

    def close(self) -> None:
        if self._socket is not None:
            try:
                self._socket.close()
            finally:
                self._socket = None

    # --- messages -------------------------------------------------------------------------

    def login(self) -> None:
        """93 Login; the ACS must answer 94 with ok = 1."""
        s = self.settings
        body = (
            "9300"
            f"CN{field_value(s.login_user)}|CO{field_value(s.login_password)}|"
            f"CP{field_value(s.location_code)}|"
        )
        reply = self._exchange(body, expect="94")
        if reply.fixed != "1":
            raise Sip2Unavailable("login refused by the library system")

    def patron_information(
        self, *, patron_identifier: str, patron_password: str = ""
    ) -> PatronInformation:
        """63 Patron Information (AO institution, AA card number, AD password) → parsed 64."""
        s = self.settings
        body = (
            f"63{LANGUAGE_UNKNOWN}{transaction_date()}{SUMMARY_NONE}"
            f"AO{field_value(s.institution_id)}|AA{field_value(patron_identifier)}|"
        )
        if s.terminal_password:
            body += f"AC{field_value(s.terminal_password)}|"
        if patron_password:
            body += f"AD{field_value(patron_password)}|"
        reply = self._exchange(body, expect="64")
        if reply.get("AA") and reply.get("AA") != patron_identifier:
            raise Sip2Unavailable("the library system answered about another patron")
        return PatronInformation(
            patron_identifier=reply.get("AA"),
            institution_id=reply.get("AO"),
            valid_patron=reply.flag("BL"),
            valid_password=reply.flag("CQ"),
            patron_status=reply.fixed[:14],
            personal_name=reply.get("AE"),
            screen_message=" ".join(reply.fields.get("AF", [])),
        )

    # --- wire -----------------------------------------------------------------------------

    def _next_sequence(self) -> int:
        sequence = self._sequence
        self._sequence = (self._sequence + 1) % 10
        return sequence

    def _exchange(self, body: str, *, expect: str) -> Message:
        sequence = self._next_sequence()
        wire = encode(
            body,
            encoding=self.settings.encoding,
            sequence=sequence,
            error_detection=self.settings.error_detection,
        )
        self._send(wire)
        for attempt in range(3):
            message = self._receive(expect)
            if message.command == "96":  # the ACS could not read us: send the same bytes again
                self._send(wire)
                continue
            if message.command != expect:
                raise Sip2Unavailable(f"expected {expect}, got {message.command}")
            if self.settings.error_detection and message.checksum_ok is False:
                if attempt < 2:
                    self._send(encode("97", encoding="ascii", error_detection=True))
                    continue
                raise Sip2Unavailable("checksum of the reply is wrong")
            if (
                self.settings.error_detection
                and message.sequence is not None
                and message.sequence != sequence
            ):
                raise Sip2Unavailable("reply carries another sequence number")
            return message
        raise Sip2Unavailable("the library system kept sending unreadable replies")

    def _send(self, data: bytes) -> None:
        if self._socket is None:
            raise Sip2Unavailable("not connected")
        try:
            self._socket.sendall(data)
        except OSError as exc:
            raise Sip2Unavailable(f"send failed: {type(exc).__name__}") from None

    def _receive(self, expect: str) -> Message:
        raw = self._read_line()
        command = raw[:2].decode("ascii", "replace")
        fixed_length = FIXED_LENGTHS.get(command, FIXED_LENGTHS.get(expect, 0))
        try:
            return decode(raw, encoding=self.settings.encoding, fixed_length=fixed_length)
        except Sip2ProtocolError as exc:
            raise Sip2Unavailable(str(exc)) from None

    def _read_line(self) -> bytes:
        if self._socket is None:
            raise Sip2Unavailable("not connected")
        while True:
            # Tolerate CR LF line endings: a leading LF belongs to the previous message.
            self._buffer = self._buffer.lstrip(b"\n")
            end = self._buffer.find(TERMINATOR)
            if end != -1:
                line, self._buffer = self._buffer[:end], self._buffer[end + 1 :]
                return line
            if len(self._buffer) > MAX_MESSAGE_BYTES:
                raise Sip2Unavailable("reply too long")
            try:
                chunk = self._socket.recv(4096)
            except TimeoutError:
                raise Sip2Unavailable("the library system did not answer in time") from None
            except OSError as exc:
                raise Sip2Unavailable(f"receive failed: {type(exc).__name__}") from None
            if not chunk:
                raise Sip2Unavailable("the library system closed the connection")
            self._buffer += chunk
