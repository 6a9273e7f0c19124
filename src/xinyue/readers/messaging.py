"""Extra senders of reader messages, named by ``settings.XINYUE_MESSAGE_SENDERS`` (dotted paths).

Every notification is an in-app message (``readers.Message``) first; each configured sender then
gets its own ``MessageDelivery``, sent after the commit by a background job and retried with
``core/retries`` when it fails. A sender is a class whose instances have
``send(*, reader: Reader, message: Message) -> None`` and raise ``MessageSendError`` on failure.

Shipped: ``SmsMessageSender``, the subject as a text message through the SMS sender of
``readers/sms.py`` (the dev outbox in the sandbox, an SMS relay in production).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Protocol

from django.utils.module_loading import import_string

from xinyue.readers import sms, vault

if TYPE_CHECKING:
    from xinyue.readers.models import Message, Reader


class MessageSendError(Exception):
    pass


class MessageSender(Protocol):
    def send(self, *, reader: Reader, message: Message) -> None: ...


class SmsMessageSender:
    """The message's subject and link as a text message to the reader's phone."""

    def send(self, *, reader: Reader, message: Message) -> None:
        phone = vault.unseal(reader, "phone_ct") if reader.phone_ct else ""
        if not phone:
            raise MessageSendError("the reader has no phone number")
        text = f"【信阅】{message.subject}"
        try:
            sms.sender().send(phone=phone, text=text[:300])
        except sms.SmsSendError as exc:
            raise MessageSendError(str(exc)) from None


@cache
def sender_class(path: str) -> type:
    return import_string(path)
