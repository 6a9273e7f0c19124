"""Who is acting: one value passed to every service, whether a page user, an API key or a job.

Services check permissions against an ``Actor`` (see ``xinyue.core.permissions``) and write
it into the audit log, so a rule never depends on which interface the call came through.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class ActorKind(StrEnum):
    OPERATOR = "operator"  # provincial library: the whole platform
    STAFF = "staff"  # one member library, with roles
    SUPPLIER = "supplier"  # one bookseller
    READER = "reader"
    SYSTEM = "system"  # background jobs, commands


class Role(StrEnum):
    DESK = "desk"
    ADMIN = "admin"


class Channel(StrEnum):
    """Where an action came from; reported in the monthly report (order sources)."""

    ALIPAY = "alipay"
    WECHAT = "wechat"
    PC = "pc"
    DESK = "desk"
    KIOSK = "kiosk"
    API = "api"
    SYSTEM = "system"


@dataclass(frozen=True)
class Actor:
    kind: ActorKind
    label: str
    user_id: int | None = None
    api_key_id: int | None = None
    reader_id: int | None = None
    library_id: int | None = None
    supplier_id: int | None = None
    kiosk_id: int | None = None  # a self-service kiosk account (SIP2) of ``library_id``
    roles: frozenset[Role] = field(default_factory=frozenset)
    channel: Channel = Channel.PC

    @property
    def is_operator(self) -> bool:
        return self.kind is ActorKind.OPERATOR

    @property
    def ref(self) -> str:
        """A stable reference for audit rows: ``user:12``, ``apikey:3``, ``kiosk:5``, ``reader:7``,
        ``system``."""
        if self.kiosk_id is not None:
            return f"kiosk:{self.kiosk_id}"
        if self.api_key_id is not None:
            return f"apikey:{self.api_key_id}"
        if self.user_id is not None:
            return f"user:{self.user_id}"
        if self.reader_id is not None:
            return f"reader:{self.reader_id}"
        return "system"

    def via(self, channel: Channel) -> Actor:
        return replace(self, channel=channel)


SYSTEM = Actor(kind=ActorKind.SYSTEM, label="system", channel=Channel.SYSTEM)
