"""The credit-provider protocol (DESIGN §5, research note §8) and the values it speaks.

An adapter talks to one provider over its wire protocol and returns normalized values; it keeps
no state of its own and never touches our tables. Every call that creates something at the
provider carries our idempotency key (``request_no`` / ``out_order_no``), persisted by the
service *before* the call, so that a retry or a query after a timeout never creates a second one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class ProviderError(Exception):
    """A provider call failed. ``retryable``: the same call may succeed later (same key)."""

    retryable = False

    def __init__(self, message: str, *, code: str = "", sub_code: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.sub_code = sub_code


class ProviderTimeout(ProviderError):
    """No answer in time: the outcome is unknown; query with the same key before retrying."""

    retryable = True


class ProviderUnavailable(ProviderError):
    """Connection refused, HTTP 5xx or the provider's "service unavailable" (Alipay 20000)."""

    retryable = True


class SignatureInvalid(ProviderError):
    """A message failed verification (signature, app id, timestamp window, AEAD tag)."""


class ProviderRefused(ProviderError):
    """A final business refusal (Alipay 40004 + sub_code, WeChat 4xx): do not retry as is."""


class OrderNotFound(ProviderRefused):
    """The provider has no order under this key (e.g. a create that never arrived)."""


class OrderState(StrEnum):
    """Normalized credit-order states (research note §8)."""

    PENDING_CONFIRM = "pending_confirm"
    REJECTED = "rejected"
    BORROWED = "borrowed"
    OVERDUE = "overdue"
    RETURNED = "returned"
    CHARGING = "charging"
    CHARGED = "charged"
    CHARGE_FAILED = "charge_failed"
    CANCELLED = "cancelled"


class Decision(StrEnum):
    PENDING = "pending"
    ADMITTED = "admitted"
    REFUSED = "refused"


class CompleteReason(StrEnum):
    RETURN = "RETURN"
    LOST = "LOST"
    DAMAGED = "DAMAGED"


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the reader is at the provider (Alipay user_id / WeChat openid); no personal data."""

    provider: str
    user_id: str
    open_id: str = ""
    access_token: str = field(default="", repr=False)
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class AdmittanceStart:
    request_no: str
    provider_ref: str
    confirm_url: str


@dataclass(frozen=True)
class AdmittanceResult:
    """The provider's yes/no at the threshold we sent. Never a score."""

    request_no: str
    decision: Decision
    provider_ref: str = ""
    provider_user_id: str = ""


@dataclass(frozen=True)
class CreditOrderRequest:
    out_order_no: str
    goods_name: str
    deposit_fen: int
    borrow_time: dt.datetime
    due_at: dt.datetime
    provider_user_id: str = ""  # known (authorized) user: opened server-side, no confirm page
    return_url: str = ""
    notify_url: str = ""
    shop_name: str = ""


@dataclass(frozen=True)
class CreditOrderResult:
    out_order_no: str
    state: OrderState
    provider_order_no: str = ""
    confirm_url: str = ""
    charged_fen: int = 0
    due_at: dt.datetime | None = None


@dataclass(frozen=True)
class ProviderEvent:
    """A verified notification, normalized. ``notify_id`` is the provider's dedupe key."""

    provider: str
    notify_id: str
    kind: str  # "admittance" | "order" | "other"
    reference: str  # our request_no (admittance) or out_order_no (order)
    decision: Decision | None = None
    order_state: OrderState | None = None
    provider_ref: str = ""
    provider_user_id: str = ""
    charged_fen: int = 0
    fields: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class HttpReply:
    status: int
    body: str
    content_type: str = "text/plain; charset=utf-8"


class CreditProvider(Protocol):
    name: str

    def authorize_url(self, *, state: str, redirect_uri: str, scopes: tuple[str, ...] = ...) -> str:
        """The provider's OAuth page for channel login."""

    def exchange_code(self, *, code: str) -> ProviderIdentity: ...

    def begin_admittance(
        self,
        *,
        request_no: str,
        threshold: int,
        return_url: str,
        notify_url: str,
        provider_user_id: str = "",
    ) -> AdmittanceStart:
        """Open an authorization at the provider; the reader confirms at ``confirm_url``."""

    def query_admittance(self, *, request_no: str) -> AdmittanceResult:
        """The decision of an authorization opened by ``begin_admittance`` (the fallback)."""

    def check_admittance(
        self, *, provider_user_id: str, threshold: int, request_no: str
    ) -> AdmittanceResult:
        """Yes/no at ``threshold`` for a reader who authorized before (a re-check)."""

    def start_credit_order(self, request: CreditOrderRequest) -> CreditOrderResult: ...

    def query_order(self, *, out_order_no: str) -> CreditOrderResult: ...

    def extend_order(
        self, *, out_order_no: str, provider_order_no: str, due_at: dt.datetime
    ) -> CreditOrderResult: ...

    def complete_order(
        self,
        *,
        out_order_no: str,
        provider_order_no: str,
        returned_at: dt.datetime,
        charge_fen: int = 0,
        reason: CompleteReason = CompleteReason.RETURN,
        shop_name: str = "",
    ) -> CreditOrderResult: ...

    def cancel_order(
        self, *, out_order_no: str, provider_order_no: str, reason: str
    ) -> CreditOrderResult: ...

    def parse_notification(self, headers: Mapping[str, str], raw_body: bytes) -> ProviderEvent:
        """Verify (signature, app id, time window, AEAD) BEFORE parsing; raise on failure."""

    def ack(self, ok: bool) -> HttpReply: ...
