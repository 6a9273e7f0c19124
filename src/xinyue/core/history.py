"""History written once: a state change records its event row, and optionally its audit row and
the webhook libraries hear about, in one call inside the service's transaction.

``record_transition(CardEvent, card=card, actor=…, from_state=…, to_state=…, audit=Audit(…),
webhook=Webhook(…))``. The event row (who, when, from → to, channel) is the history of the thing
and what the monthly report counts; the audit row is the log people read (who did what to which
object, with details); the webhook tells a library's own system. Webhooks live in ``libraries``,
above ``core``: that app registers its publisher here in ``AppConfig.ready`` and core never
imports it. Delivery is enqueued on commit by the publisher, so a rolled-back change sends nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from xinyue.core import audit as audit_log
from xinyue.core.actors import Actor
from xinyue.core.hooks import Hook
from xinyue.core.models import AuditEntry, EventRow
from xinyue.core.rows import insert_rows

Row = TypeVar("Row", bound=EventRow)


@dataclass(frozen=True)
class Audit:
    """The audit row of a transition: its action code, the library it concerns, details (never
    personal data in clear)."""

    action: str
    library_code: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Webhook:
    """What the subscribers of ``library`` hear: ``event_type`` with ``data``."""

    library: Any
    event_type: str
    data: dict[str, Any]


# ``publish(library=…, event_type=…, data=…)``: the libraries app registers it (``ready``).
webhook_publisher: Hook[Callable[..., Any]] = Hook("core.webhook_publisher", one=True)


def record_transition(
    event_model: type[Row],
    *,
    actor: Actor,
    from_state: str = "",
    to_state: str = "",
    note: str = "",
    audit: Audit | None = None,
    webhook: Webhook | None = None,
    **target: Any,
) -> Row:
    """Record one transition of ``target`` (e.g. ``card=card``): the event row, then the audit
    row and the webhook when asked. Call it inside the service's transaction."""
    row = event_model.record(
        actor=actor, from_state=from_state, to_state=to_state, note=note, **target
    )
    if audit is not None:
        (obj,) = target.values()
        audit_log.record(
            actor=actor,
            action=audit.action,
            obj=obj,
            library_code=audit.library_code,
            **audit.detail,
        )
    if webhook is not None:
        webhook_publisher(library=webhook.library, event_type=webhook.event_type, data=webhook.data)
    return row


def record_transitions(events: Sequence[EventRow], audits: Sequence[AuditEntry] = ()) -> None:
    """``record_transition`` for a batch (placing's group commit): the event rows built by
    ``EventModel.build`` and the audit rows built by ``audit.entry``, one INSERT each (the events
    get their ids). Webhooks are the caller's, as they are per subscriber anyway."""
    insert_rows(events, return_ids=True)
    insert_rows(audits)
