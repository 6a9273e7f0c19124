"""Writing the audit log. Services call ``record`` inside their transaction."""

from __future__ import annotations

from typing import Any

from xinyue.core.actors import Actor
from xinyue.core.models import AuditEntry


def record(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    library_code: str = "",
    **detail: Any,
) -> AuditEntry:
    """Append one audit row. ``detail`` must never hold personal data in clear (mask it first)."""
    row = entry(
        actor=actor,
        action=action,
        obj=obj,
        object_type=object_type,
        object_id=object_id,
        library_code=library_code,
        **detail,
    )
    row.save(force_insert=True)
    return row


def entry(
    *,
    actor: Actor,
    action: str,
    obj: Any = None,
    object_type: str = "",
    object_id: str | int = "",
    library_code: str = "",
    **detail: Any,
) -> AuditEntry:
    """The row ``record`` would append, unsaved: for a service that writes many in one
    statement (``AuditEntry.objects.bulk_create``; placing's group commit)."""
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or obj.pk
    return AuditEntry(
        actor_ref=actor.ref,
        actor_kind=actor.kind.value,
        actor_label=actor.label[:120],
        channel=actor.channel.value,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        library_code=library_code,
        detail=detail,
    )
