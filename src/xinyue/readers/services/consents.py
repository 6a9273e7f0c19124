"""Consents: versioned texts per purpose, grant and withdraw, every change kept and audited.

Purposes (PIPL): ``credit_check`` (the credit assessment by a provider), ``share_borrowing``
(providing borrowing records to the provider, art. 23, recipient named) and ``id_number``
(processing the ID number, sensitive personal information, art. 29). Withdrawal is as easy as
granting (art. 15) and takes effect at once: ``has_consent`` turns false, so CREDIT stops calling
providers about the reader and new credit loans are blocked.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_operator
from xinyue.readers.consent_texts import DEFAULT_TEXTS
from xinyue.readers.errors import ConsentNotGranted, ConsentTextMissing, UnknownConsentPurpose
from xinyue.readers.models import Consent, ConsentPurpose, ConsentText, Reader
from xinyue.readers.services.identity import require_self

ENDED_WITHDRAWN = "withdrawn"
ENDED_SUPERSEDED = "superseded"
ENDED_ACCOUNT_DELETED = "account_deleted"


def _purpose(purpose: str) -> str:
    if purpose not in ConsentPurpose.values:
        raise UnknownConsentPurpose(fields={"purpose": _("未知的授权用途")})
    return purpose


def current_text(purpose: str) -> ConsentText:
    """The latest published text of ``purpose`` (version 1 is re-published if the table is empty)."""
    text = ConsentText.objects.filter(purpose=_purpose(purpose)).order_by("-version").first()
    if text is None:
        for p, title, recipient, body in DEFAULT_TEXTS:
            if p == purpose:
                text, _created = ConsentText.objects.get_or_create(
                    purpose=p,
                    version=1,
                    defaults={
                        "title": title,
                        "recipient": recipient,
                        "body": body,
                        "published_at": clock.now(),
                    },
                )
    if text is None:
        raise ConsentTextMissing(purpose=purpose)
    return text


@transaction.atomic
def grant_consent(*, actor: Actor, reader: Reader, purpose: str) -> Consent:
    """Record the reader's consent to the current text of ``purpose``. Granting again while a
    consent to the current version is active changes nothing; an active consent to an older
    version is closed as superseded."""
    require_self(actor, reader)
    text = current_text(purpose)
    active = (
        Consent.objects.select_for_update()
        .filter(reader=reader, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    now = clock.now()
    if active is not None:
        if active.version == text.version:
            return active
        active.withdrawn_at, active.ended_reason = now, ENDED_SUPERSEDED
        active.save(update_fields=["withdrawn_at", "ended_reason", "updated_at"])
    consent = Consent.objects.create(
        reader=reader,
        purpose=purpose,
        text=text,
        version=text.version,
        channel=actor.channel.value,
        granted_at=now,
    )
    audit.record(
        actor=actor, action="consent.granted", obj=reader, purpose=purpose, version=text.version
    )
    return consent


@transaction.atomic
def withdraw_consent(*, actor: Actor, reader: Reader, purpose: str) -> Consent:
    """Withdraw the reader's consent to ``purpose``; the record stays, with the withdrawal time."""
    require_self(actor, reader)
    _purpose(purpose)
    active = (
        Consent.objects.select_for_update()
        .filter(reader=reader, purpose=purpose, withdrawn_at__isnull=True)
        .first()
    )
    if active is None:
        raise ConsentNotGranted(purpose=purpose)
    active.withdrawn_at, active.ended_reason = clock.now(), ENDED_WITHDRAWN
    active.save(update_fields=["withdrawn_at", "ended_reason", "updated_at"])
    audit.record(
        actor=actor, action="consent.withdrawn", obj=reader, purpose=purpose, version=active.version
    )
    return active


@transaction.atomic
def publish_consent_text(
    *,
    actor: Actor,
    purpose: str,
    title: str,
    body: str,
    recipient: str = "",
    requires_reconsent: bool = False,
) -> ConsentText:
    """The operator publishes a new version of a consent text. With ``requires_reconsent`` (the
    purpose, data or recipient changed) earlier consents stop counting until granted again."""
    require_operator(actor)
    _purpose(purpose)
    if not title.strip() or not body.strip():
        raise InvalidInput(fields={"body": _("请填写授权文本的标题和正文")})
    last = (
        ConsentText.objects.select_for_update().filter(purpose=purpose).order_by("-version").first()
    )
    text = ConsentText.objects.create(
        purpose=purpose,
        version=(last.version + 1) if last else 1,
        title=title.strip(),
        body=body.strip(),
        recipient=recipient.strip(),
        requires_reconsent=requires_reconsent,
        published_at=clock.now(),
    )
    audit.record(
        actor=actor,
        action="consent_text.published",
        obj=text,
        purpose=purpose,
        version=text.version,
        requires_reconsent=requires_reconsent,
    )
    return text
