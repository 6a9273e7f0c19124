"""In-app messages (消息): every notification a reader gets, and the extra senders behind it.

``notify_reader`` is the one way any app tells a reader something (an order shipped, their turn
on a wait-list): the message row is written in the caller's transaction (a rolled-back change
tells nobody), and each sender of ``settings.XINYUE_MESSAGE_SENDERS`` gets a delivery sent after
the commit. A sender that fails never touches the caller's change: the job retries it later.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction

from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.retries import Backoff
from xinyue.core.rows import insert_rows
from xinyue.readers.errors import MessageNotFound
from xinyue.readers.messaging import MessageSendError, sender_class
from xinyue.readers.models import Message, MessageDelivery, Reader
from xinyue.readers.services.identity import require_self

log = logging.getLogger("xinyue.readers.messages")


def notify_reader(*, reader: Reader, kind: str, subject: str, body: str, link: str = "") -> Message:
    """Tell ``reader`` something: always in-app, plus every configured sender after the commit.

    No actor: this is the consequence of a change its caller already checked and recorded."""
    (message,) = notify_readers(notices=[Notice(reader, kind, subject, body, link)])
    return message


@dataclass(frozen=True)
class Notice:
    """One message of ``notify_readers``."""

    reader: Reader
    kind: str
    subject: str
    body: str
    link: str = ""


def notify_readers(*, notices: Sequence[Notice]) -> list[Message]:
    """``notify_reader`` for many messages at once (placing tells a whole batch of readers): one
    INSERT for the messages and one for their deliveries, in the caller's transaction."""
    from xinyue.readers.tasks import deliver_message

    rows = []
    for notice in notices:
        link = notice.link
        if not link.startswith("/") or link.startswith("//"):
            link = ""  # only paths of this site
        rows.append(
            Message(
                reader=notice.reader,
                kind=notice.kind[:40],
                subject=notice.subject[:120],
                body=notice.body[:1000],
                link=link[:200],
            )
        )
    senders = settings.XINYUE_MESSAGE_SENDERS
    insert_rows(rows, return_ids=True)
    if senders and rows:
        deliveries = [MessageDelivery(message=m, sender=path) for m in rows for path in senders]
        insert_rows(deliveries, return_ids=True)
        for delivery in deliveries:
            transaction.on_commit(
                lambda pk=delivery.pk: deliver_message.enqueue(delivery_id=pk)  # type: ignore[misc]
            )
    return rows


def message_backoff() -> Backoff:
    """1 min, 2 min … capped at one hour, at most ``XINYUE_MESSAGE_MAX_ATTEMPTS`` tries."""
    return Backoff.doubling(60, cap=3600, max_attempts=settings.XINYUE_MESSAGE_MAX_ATTEMPTS)


def attempt_message_delivery(*, delivery_id: int) -> MessageDelivery | None:
    """Send one delivery once. Returns it when a retry should be scheduled, else None.

    The attempt is claimed with a conditional UPDATE, so two workers never send it twice."""
    delivery = (
        MessageDelivery.objects.select_related("message__reader").filter(pk=delivery_id).first()
    )
    if delivery is None or delivery.status != MessageDelivery.Status.PENDING:
        return None
    claimed = MessageDelivery.objects.filter(
        pk=delivery.pk, status=MessageDelivery.Status.PENDING, attempts=delivery.attempts
    ).update(attempts=delivery.attempts + 1)
    if not claimed:
        return None
    delivery.attempts += 1
    message = delivery.message
    try:
        sender_class(delivery.sender)().send(reader=message.reader, message=message)
    except (MessageSendError, ImportError) as exc:
        log.warning("message delivery %s via %s failed: %s", delivery.pk, delivery.sender, exc)
        final = message_backoff().gives_up(delivery.attempts)
        MessageDelivery.objects.filter(pk=delivery.pk).update(
            status=MessageDelivery.Status.FAILED if final else MessageDelivery.Status.PENDING,
            last_error=str(exc)[:200],
        )
        return None if final else delivery
    MessageDelivery.objects.filter(pk=delivery.pk).update(
        status=MessageDelivery.Status.SENT, sent_at=clock.now(), last_error=""
    )
    return None


@transaction.atomic
def mark_messages_read(
    *, actor: Actor, reader: Reader, message_ids: list[int] | None = None
) -> int:
    """The reader has read these messages (None: all of them). Returns how many changed."""
    require_self(actor, reader)
    unread = Message.objects.filter(reader=reader, read_at__isnull=True)
    if message_ids is not None:
        ids = [int(i) for i in message_ids]
        if Message.objects.filter(reader=reader, pk__in=ids).count() != len(set(ids)):
            raise MessageNotFound()
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=clock.now())
