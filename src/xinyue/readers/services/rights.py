"""The reader's rights (PIPL art. 44–47): a copy of their data, and deleting the account.

Apps above readers register with these hooks (``core.hooks``) from their ``AppConfig.ready``
(the readers app never imports them):

- ``obligations``, each ``check(*, reader)``: returns a list of reasons (open loans, unpaid
  compensation …) that block deletion; the reader is told every reason.
- ``exporters``, each ``exporter(*, reader)``: returns ``(section name, JSON-able data)`` for the export.
- ``erasers``, each ``eraser(*, actor, reader)``: erases or anonymises that app's data about the reader, inside the
  deletion's transaction; may return facts (``{"cards_cancelled": 2}``) for the audit row.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.core.hooks import Hook
from xinyue.core.models import AuditEntry
from xinyue.readers.errors import DeletionBlocked
from xinyue.readers.masking import mask_id_number, mask_name, mask_phone
from xinyue.readers.models import (
    Address,
    ChannelIdentity,
    Consent,
    LoginThrottle,
    Message,
    PhoneVerification,
    Reader,
    ReaderEvent,
    ReaderToken,
)
from xinyue.readers.selectors.identity import reader_pii
from xinyue.readers.services.consents import ENDED_ACCOUNT_DELETED
from xinyue.readers.services.identity import record_reader_event, require_self
from xinyue.readers.services.tokens import revoke_all_tokens

log = logging.getLogger(__name__)

EXPORT_FORMAT = "xinyue.reader-export/1"


Obligations = Callable[..., list[Any]]
Exporter = Callable[..., tuple[str, Any]]
Eraser = Callable[..., dict[str, Any] | None]

obligations: Hook[Obligations] = Hook("readers.deletion_obligations")
exporters: Hook[Exporter] = Hook("readers.data_exporters")
erasers: Hook[Eraser] = Hook("readers.data_erasers")


def _iso(value: Any) -> Any:
    return value.isoformat() if value is not None and hasattr(value, "isoformat") else value


def open_obligations(*, reader: Reader) -> list[str]:
    """Reasons the account cannot be deleted yet (empty: it can)."""
    reasons: list[str] = []
    for found in obligations.each(reader=reader):
        reasons.extend(str(r) for r in found or [])
    return reasons


def _export_identity(reader: Reader, *, reveal: bool) -> dict[str, Any]:
    pii = reader_pii(reader=reader)
    values = (
        {"id_number": pii.id_number, "name": pii.name, "phone": pii.phone}
        if reveal
        else {
            "id_number": mask_id_number(pii.id_number),
            "name": mask_name(pii.name),
            "phone": mask_phone(pii.phone),
        }
    )
    return {
        "uid": str(reader.uid),
        **values,
        "personal_data_masked": not reveal,
        "phone_verified_at": _iso(reader.phone_verified_at),
        "gender": reader.gender,
        "birth_year": reader.birth_year,
        "region_code": reader.region_code,
        "registered_at": _iso(reader.created_at),
        "is_active": reader.is_active,
    }


def _export_addresses(reader: Reader, *, reveal: bool) -> list[dict[str, Any]]:
    from xinyue.readers import vault

    rows = []
    for address in Address.objects.filter(reader=reader).order_by("id"):
        detail = vault.unseal(address, "detail_ct")
        recipient = vault.unseal(address, "recipient_ct")
        phone = vault.unseal(address, "phone_ct")
        rows.append(
            {
                "district_code": address.district_code,
                "detail": detail if reveal else detail[:6] + "…",
                "recipient": recipient if reveal else mask_name(recipient),
                "phone": phone if reveal else mask_phone(phone),
                "is_default": address.is_default,
                "created_at": _iso(address.created_at),
            }
        )
    return rows


def export_reader_data(*, actor: Actor, reader: Reader, reveal: bool = False) -> dict[str, Any]:
    """Everything the platform holds about ``reader`` as JSON-able data, audited.

    ``reveal=False`` (the API, and any unconfirmed request) masks the ID number, name, phone and
    addresses like every other response; ``reveal=True`` puts them in clear and is only offered
    after the reader re-entered their password on the account page (a download for themselves).
    """
    require_self(actor, reader)
    data: dict[str, Any] = {
        "format": EXPORT_FORMAT,
        "exported_at": _iso(clock.now()),
        "reader": _export_identity(reader, reveal=reveal),
        "addresses": _export_addresses(reader, reveal=reveal),
        "consents": [
            {
                "purpose": c.purpose,
                "version": c.version,
                "title": c.text.title,
                "recipient": c.text.recipient,
                "channel": c.channel,
                "granted_at": _iso(c.granted_at),
                "withdrawn_at": _iso(c.withdrawn_at),
                "ended_reason": c.ended_reason,
            }
            for c in Consent.objects.filter(reader=reader).select_related("text")
        ],
        "channel_identities": [
            {"provider": ci.provider, "bound_at": _iso(ci.created_at)}
            for ci in ChannelIdentity.objects.filter(reader=reader).order_by("provider")
        ],
        "api_tokens": [
            {
                "created_at": _iso(t.created_at),
                "expires_at": _iso(t.expires_at),
                "revoked_at": _iso(t.revoked_at),
                "last_used_at": _iso(t.last_used_at),
                "channel": t.channel,
            }
            for t in ReaderToken.objects.filter(reader=reader).order_by("created_at")
        ],
        "account_events": [
            {"at": _iso(e.at), "from": e.from_state, "to": e.to_state, "channel": e.channel}
            for e in ReaderEvent.objects.filter(reader=reader)
        ],
        "messages": [
            {
                "at": _iso(m.created_at),
                "kind": m.kind,
                "subject": m.subject,
                "body": m.body,
                "read_at": _iso(m.read_at),
            }
            for m in Message.objects.filter(reader=reader).order_by("created_at", "id")
        ],
        "access_log": [
            {"at": _iso(e.at), "action": e.action, "by": e.actor_kind, "channel": e.channel}
            for e in AuditEntry.objects.filter(
                object_type="readers.reader", object_id=str(reader.pk)
            ).order_by("at", "id")
        ],
    }
    for name, section in exporters.each(reader=reader):
        data[name] = section
    with transaction.atomic():
        audit.record(actor=actor, action="reader.exported", obj=reader, revealed=reveal)
    return data


@transaction.atomic
def delete_reader_account(*, actor: Actor, reader: Reader) -> Reader:
    """Delete the reader's account at their request (PIPL art. 47).

    Refused, with every reason, while another app reports an open obligation (a loan not yet
    returned, compensation not settled). Otherwise, in one transaction:

    - erased: ID number, name, phone (ciphertexts emptied), the blind index (the person may
      register again), the password, addresses, messages, channel identities, API tokens, SMS codes, the
      region code; other apps' data through their erasers;
    - cancelled: every open card, reason "读者注销账户";
    - kept, without personal data: the anonymised reader row (gender and birth year, for the
      statistics already reported), cards and their events, consent records (proof of what was
      consented, now ended), the audit log; other apps keep what accounting law requires
      (deductions, compensation) pointing at the anonymised row.
    """
    require_self(actor, reader)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    reasons = open_obligations(reader=reader)
    if reasons:
        raise DeletionBlocked(
            _("还有未完结的事项，暂不能注销账户：%(r)s")
            % {"r": pgettext("list separator", "；").join(reasons)},
            reasons=reasons,
        )
    now = clock.now()
    erased: dict[str, Any] = {}
    for facts in erasers.each(actor=actor, reader=reader):
        erased.update(facts or {})
    Address.objects.filter(reader=reader).delete()
    Message.objects.filter(reader=reader).delete()
    ChannelIdentity.objects.filter(reader=reader).delete()
    PhoneVerification.objects.filter(reader=reader).delete()
    revoke_all_tokens(reader=reader)
    ReaderToken.objects.filter(reader=reader).delete()
    if reader.id_number_index:
        LoginThrottle.objects.filter(
            scope=LoginThrottle.Scope.ID_NUMBER, key=reader.id_number_index
        ).delete()
    Consent.objects.filter(reader=reader, withdrawn_at__isnull=True).update(
        withdrawn_at=now, ended_reason=ENDED_ACCOUNT_DELETED, updated_at=now
    )
    reader.id_number_ct = reader.name_ct = reader.phone_ct = ""
    reader.id_number_index = None
    reader.password = ""
    reader.region_code = ""
    reader.phone_verified_at = None
    reader.is_active = False
    reader.deleted_at = now
    reader.save()
    user = reader.user
    if user is not None:
        user.username = f"deleted-{reader.uid.hex}"
        user.display_name = ""
        user.is_active = False
        user.set_unusable_password()
        user.save()
    record_reader_event(reader, actor, from_state="active", to_state="deleted")
    audit.record(
        actor=actor,
        action="reader.deleted",
        obj=reader,
        **erased,
        retained=["reader (anonymised)", "cards", "consent records", "audit log"],
    )
    log.info("reader %s deleted their account", reader.pk)
    return reader
