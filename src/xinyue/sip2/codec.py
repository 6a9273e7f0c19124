"""SIP2 (3M Standard Interchange Protocol 2.00) framing shared by our client and our server.

A message is a two-digit command, fixed-length fields, then variable fields ``XXvalue|``; with error
detection on, it ends with ``AY<sequence digit>AZ<checksum>`` and a carriage return. The checksum is
the 16-bit two's complement of the sum of the message's *bytes* up to and including ``AZ`` — bytes
in the terminal's encoding, not characters, or GBK/UTF-8 names break it (php-sip2 issue 8).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from xinyue.core import clock

TERMINATOR = b"\r"
ENCODINGS = ("utf-8", "gbk", "gb18030", "cp850")


class Sip2ProtocolError(Exception):
    """A message that is not well-formed SIP2 (bad checksum, short fixed part, bad framing)."""


def checksum(data: bytes) -> str:
    """Four upper-case hex digits: ``(-sum(data)) & 0xFFFF``."""
    return f"{(-sum(data)) & 0xFFFF:04X}"


def transaction_date(moment: dt.datetime | None = None) -> str:
    """``YYYYMMDDZZZZHHMMSS`` in the platform's local time (zone field blank = local)."""
    local = clock.local(moment or clock.now())
    return local.strftime("%Y%m%d") + "    " + local.strftime("%H%M%S")


def field_value(value: str) -> str:
    """A variable field's value: the field delimiter and line breaks cannot be sent."""
    if any(ch in value for ch in "|\r\n"):
        raise ValueError("SIP2 field values cannot contain '|', CR or LF")
    return value


def safe_value(value: str, limit: int = 255) -> str:
    """Our own data (a title, a message) as a field value: delimiter and line breaks become
    blanks, and it is cut to ``limit`` characters."""
    return value.replace("|", " ").replace("\r", " ").replace("\n", " ")[:limit]


def encode(
    body: str,
    *,
    encoding: str,
    sequence: int | None = None,
    error_detection: bool = True,
    errors: str = "strict",
) -> bytes:
    """``body`` (command + fields) framed for the wire, with ``AY``/``AZ`` when error detection is on.

    ``errors="replace"`` sends ``?`` for a character the terminal's charset lacks (a rare
    character of a title in GBK) instead of failing the whole reply."""
    data = body.encode(encoding, errors=errors)
    if error_detection:
        if sequence is not None:
            data += f"AY{sequence % 10}".encode("ascii")
        data += b"AZ"
        data += checksum(data).encode("ascii")
    return data + TERMINATOR


@dataclass
class Message:
    """A decoded message: the command, its fixed part (raw text) and variable fields (repeatable)."""

    command: str
    fixed: str
    fields: dict[str, list[str]] = field(default_factory=dict)
    sequence: int | None = None
    checksum_ok: bool | None = None  # None: the message carried no checksum

    def get(self, code: str, default: str = "") -> str:
        values = self.fields.get(code)
        return values[0] if values else default

    def flag(self, code: str) -> bool | None:
        """A Y/N field: True, False, or None when absent."""
        value = self.get(code).strip().upper()
        if value == "Y":
            return True
        if value == "N":
            return False
        return None


def decode(raw: bytes, *, encoding: str, fixed_length: int) -> Message:
    """Parse one message (with or without its CR). Verifies ``AZ`` over the bytes when present."""
    data = raw.rstrip(b"\r\n").lstrip(b"\n")
    if len(data) < 2 or not data[:2].isdigit():
        raise Sip2ProtocolError("message does not start with a two-digit command")
    checksum_ok: bool | None = None
    sequence: int | None = None
    az = data.rfind(b"AZ")
    digits = data[az + 2 :] if az != -1 else b""
    if az != -1 and 1 <= len(digits) <= 4 and _is_hex(digits):
        # Some clients drop the leading zeros of the checksum ("AZ9B1" for 09B1): same value.
        checksum_ok = int(checksum(data[: az + 2]), 16) == int(digits, 16)
        data = data[:az]
        if len(data) >= 3 and data[-3:-1] == b"AY" and data[-1:].isdigit():
            sequence = int(data[-1:])
            data = data[:-3]
    text = data.decode(encoding, errors="replace")
    command, rest = text[:2], text[2:]
    if len(rest) < fixed_length:
        raise Sip2ProtocolError(
            f"message {command} is shorter than its {fixed_length}-character fixed part"
        )
    fixed, variable = rest[:fixed_length], rest[fixed_length:]
    fields: dict[str, list[str]] = {}
    for part in variable.split("|"):
        # Kiosks pad values with blanks and may put blanks or line breaks between fields.
        part = part.lstrip(" \r\n")
        if len(part) >= 2:
            fields.setdefault(part[:2], []).append(part[2:].strip(" "))
    return Message(
        command=command, fixed=fixed, fields=fields, sequence=sequence, checksum_ok=checksum_ok
    )


def _is_hex(data: bytes) -> bool:
    return all(c in b"0123456789abcdefABCDEF" for c in data)


# Fixed-part lengths (after the two-digit command) of the messages this platform reads: the
# replies our client reads from a library's system, and the requests our server reads from kiosks.
FIXED_LENGTHS = {
    "94": 1,  # login response: ok
    "98": 6 + 3 + 3 + 18 + 4,  # six Y/N, timeout, retries, date, protocol version
    "24": 14 + 3 + 18,  # patron status, language, date
    "64": 14 + 3 + 18 + 6 * 4,  # patron status, language, date, six counts
    "12": 4 + 18,  # ok, renewal ok, magnetic media, desensitize, date
    "10": 4 + 18,  # ok, resensitize, magnetic media, alert, date
    "18": 2 + 2 + 2 + 18,  # circulation status, security marker, fee type, date
    "30": 4 + 18,  # ok, renewal ok, magnetic media, desensitize, date
    "36": 1 + 18,  # end session, date
    "38": 1 + 18,  # payment accepted, date
    "96": 0,  # the other side asks for a resend
}
REQUEST_FIXED_LENGTHS = {
    "93": 2,  # UID algorithm, PWD algorithm
    "99": 1 + 3 + 4,  # status code, max print width, protocol version
    "23": 3 + 18,  # language, transaction date
    "63": 3 + 18 + 10,  # language, transaction date, summary
    "11": 1 + 1 + 18 + 18,  # SC renewal policy, no block, transaction date, nb due date
    "09": 1 + 18 + 18,  # no block, transaction date, return date
    "17": 18,  # transaction date
    "29": 1 + 1 + 18 + 18,  # third party allowed, no block, transaction date, nb due date
    "35": 18,  # transaction date
    "37": 18 + 2 + 1 + 3,  # transaction date, fee type, payment type, currency type
    "97": 0,
}
