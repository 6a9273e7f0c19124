"""Sending text messages: a pluggable sender named by ``settings.XINYUE_SMS_SENDER``.

A sender is a class whose instances have ``send(*, phone: str, text: str) -> None`` and raise
``SmsSendError`` on failure. Shipped:

- ``OutboxSender`` (default, development): stores the message with the phone *masked* in
  ``SmsOutboxMessage``, listed on the dev page ``/dev/sms-outbox/``; nothing leaves the machine.
- ``HttpSender``: POSTs ``{"phone", "text"}`` as JSON to ``XINYUE_SMS_HTTP_URL``, signed with
  ``X-Xinyue-Signature: sha256=<HMAC of the body with XINYUE_SMS_HTTP_SECRET>``: the shape of a
  small SMS relay in front of a carrier's API (Aliyun, Tencent Cloud …).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.request
from functools import cache
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from xinyue.readers.masking import mask_phone


class SmsSendError(Exception):
    pass


class SmsSender(Protocol):
    def send(self, *, phone: str, text: str) -> None: ...


class OutboxSender:
    """Development sender: keeps the message (masked phone) for the dev outbox page."""

    is_outbox = True

    def send(self, *, phone: str, text: str) -> None:
        from xinyue.readers.models import SmsOutboxMessage

        SmsOutboxMessage.objects.create(phone_masked=mask_phone(phone), text=text[:300])


class HttpSender:
    """Posts each message to an SMS relay over HTTP (see the module docstring)."""

    is_outbox = False

    def __init__(
        self, url: str | None = None, secret: str | None = None, timeout: float = 10
    ) -> None:
        self.url = url or settings.XINYUE_SMS_HTTP_URL
        self.secret = (secret if secret is not None else settings.XINYUE_SMS_HTTP_SECRET).encode()
        self.timeout = timeout
        if not self.url:
            raise SmsSendError("XINYUE_SMS_HTTP_URL is not set")

    def send(self, *, phone: str, text: str) -> None:
        body = json.dumps({"phone": phone, "text": text}, ensure_ascii=False).encode()
        signature = hmac.new(self.secret, body, hashlib.sha256).hexdigest()
        request = urllib.request.Request(
            self.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "X-Xinyue-Signature": f"sha256={signature}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                if not 200 <= response.status < 300:
                    raise SmsSendError(f"SMS relay answered {response.status}")
        except OSError as exc:  # URLError, HTTPError, timeouts
            raise SmsSendError(f"SMS relay unreachable: {type(exc).__name__}") from None


@cache
def _sender_class(path: str) -> type:
    return import_string(path)


def sender() -> SmsSender:
    return _sender_class(settings.XINYUE_SMS_SENDER)()


def outbox_in_use() -> bool:
    """Verification is on and messages only go to the dev outbox (no real sender configured)."""
    return bool(settings.XINYUE_SMS_VERIFICATION) and bool(
        getattr(_sender_class(settings.XINYUE_SMS_SENDER), "is_outbox", False)
    )
