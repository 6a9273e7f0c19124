"""Phone verification by SMS code (on when ``settings.XINYUE_SMS_VERIFICATION``; off in the
embedded demo). Only a keyed hash of each code is stored; the message is sent after commit."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.readers import sms, vault
from xinyue.readers.errors import (
    PhoneAlreadyVerified,
    PhoneCodeInvalid,
    SmsTooFrequent,
    SmsVerificationOff,
)
from xinyue.readers.models import PhoneVerification, Reader
from xinyue.readers.selectors.identity import sms_verification_on
from xinyue.readers.services.identity import reader_actor, record_reader_event, require_self

log = logging.getLogger(__name__)

CODE_TTL = dt.timedelta(minutes=10)
RESEND_AFTER = dt.timedelta(seconds=60)
MAX_PER_DAY = 10
MAX_ATTEMPTS = 5


def _code_hash(reader: Reader, code: str) -> str:
    return vault.blind_index(f"sms:{reader.uid}", code)


def _send_after_commit(reader_id: int, code: str) -> None:
    def send() -> None:
        reader = Reader.objects.get(pk=reader_id)
        phone = vault.unseal(reader, "phone_ct")
        text = _("【信阅】您的手机验证码是 %(code)s，10分钟内有效。如非本人操作请忽略。") % {
            "code": code
        }
        try:
            sms.sender().send(phone=phone, text=text)
        except sms.SmsSendError as exc:
            log.warning("SMS to reader %s failed: %s", reader_id, exc)

    transaction.on_commit(send)


def _issue(reader: Reader) -> None:
    now = clock.now()
    recent = PhoneVerification.objects.filter(
        reader=reader, created_at__gte=now - dt.timedelta(days=1)
    )
    if recent.filter(created_at__gt=now - RESEND_AFTER).exists() or recent.count() >= MAX_PER_DAY:
        raise SmsTooFrequent()
    PhoneVerification.objects.filter(reader=reader, used_at__isnull=True).update(expires_at=now)
    code = f"{secrets.randbelow(1_000_000):06d}"
    PhoneVerification.objects.create(
        reader=reader, code_hash=_code_hash(reader, code), expires_at=now + CODE_TTL
    )
    _send_after_commit(reader.pk, code)


@transaction.atomic
def send_phone_code(*, actor: Actor, reader: Reader) -> None:
    """Send a 6-digit code to the reader's phone (at most one a minute, ten a day)."""
    require_self(actor, reader)
    if not sms_verification_on():
        raise SmsVerificationOff()
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    if reader.phone_verified_at is not None:
        raise PhoneAlreadyVerified()
    _issue(reader)
    audit.record(actor=actor, action="reader.phone_code_sent", obj=reader)


def maybe_send_code_after_registration(*, reader: Reader) -> None:
    """Called inside registration: the first code goes out by itself when verification is on."""
    if sms_verification_on():
        _issue(reader)


def verify_phone_code(*, actor: Actor, reader: Reader, code: str) -> Reader:
    """Check a code; five wrong tries spend it. A right one marks the phone verified. A wrong
    try is counted in its own transaction, committed before the refusal is raised."""
    require_self(actor, reader)
    if not sms_verification_on():
        raise SmsVerificationOff()
    code = (code or "").strip()
    with transaction.atomic():
        reader = Reader.objects.select_for_update().get(pk=reader.pk)
        if reader.phone_verified_at is not None:
            raise PhoneAlreadyVerified()
        now = clock.now()
        pending = (
            PhoneVerification.objects.filter(
                reader=reader, used_at__isnull=True, expires_at__gt=now
            )
            .order_by("-created_at")
            .first()
        )
        if pending is None:
            raise PhoneCodeInvalid(fields={"code": _("验证码已失效，请重新获取")})
        right = hmac.compare_digest(pending.code_hash, _code_hash(reader, code))
        if right:
            pending.used_at = now
            pending.save(update_fields=["used_at", "updated_at"])
            reader.phone_verified_at = now
            reader.save(update_fields=["phone_verified_at", "updated_at"])
            record_reader_event(
                reader,
                reader_actor(reader, channel=actor.channel),
                from_state="phone_unverified",
                to_state="phone_verified",
            )
            audit.record(actor=actor, action="reader.phone_verified", obj=reader)
        else:
            pending.attempts += 1
            if pending.attempts >= MAX_ATTEMPTS:
                pending.expires_at = now
            pending.save(update_fields=["attempts", "expires_at", "updated_at"])
    if not right:
        raise PhoneCodeInvalid(
            fields={"code": _("验证码不正确")},
            attempts_left=max(0, MAX_ATTEMPTS - pending.attempts),
        )
    return reader
