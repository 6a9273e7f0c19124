"""Reading a reader's in-app messages (消息)."""

from __future__ import annotations

from django.db.models import QuerySet

from xinyue.core.actors import Actor
from xinyue.core.permissions import Action, require_reader
from xinyue.readers.models import Message, Reader


def reader_messages(*, actor: Actor, reader: Reader, limit: int = 100) -> QuerySet[Message]:
    """The newest messages first."""
    require_reader(actor, reader.pk, Action.OWN_ACCOUNT)
    return Message.objects.filter(reader=reader).order_by("-created_at", "-id")[:limit]


def unread_count(*, reader_id: int) -> int:
    """For the navigation badge (the caller is the signed-in reader themself)."""
    return Message.objects.filter(reader_id=reader_id, read_at__isnull=True).count()
