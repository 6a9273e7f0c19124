"""Reads about readers: who is behind a request, lookups, masked profiles, decrypted PII."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.http import HttpRequest

from xinyue.core.actors import ActorKind
from xinyue.core.errors import InvalidInput
from xinyue.core.rows import one_row
from xinyue.readers import vault
from xinyue.readers.masking import mask_id_number, mask_name, mask_phone
from xinyue.readers.models import ChannelIdentity, Reader
from xinyue.readers.validation import parse_id_number


def reader_from_request(request: HttpRequest, *, standing_only: bool = False) -> Reader | None:
    """The active reader behind a page request (session) or an API request (``request.auth``
    actor with a ``reader_id``: a reader token or a reader's session).

    ``standing_only``: for an API reader, read only who it is and whether it may act (id, user,
    active, deleted) — what placing an order needs; any other field loads when first touched.
    The whole row (sealed personal data included) cost more to build than the rest of the
    reader's part of a request."""
    actor = getattr(request, "auth", None) or getattr(request, "actor", None)
    reader_id = None
    if actor is not None and getattr(actor, "kind", None) is ActorKind.READER:
        reader_id = actor.reader_id
    if reader_id is None:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or user.kind != "reader":
            return None
        cached = getattr(request, "_xinyue_reader", None)
        if cached is not None:
            return cached
        reader = Reader.objects.filter(user=user, is_active=True).first()
        request._xinyue_reader = reader  # type: ignore[attr-defined]
        return reader
    return reader_standing(reader_id) if standing_only else _active_reader(reader_id)


_READER_SQL = f"SELECT * FROM {Reader._meta.db_table} WHERE id = %s AND is_active"


def _active_reader(reader_id: int) -> Reader | None:
    """The active reader with this id, by a raw statement (every API request of a reader reads
    it; building the filter through the query compiler cost more than the read: ``core.rows``)."""
    return one_row(Reader, _READER_SQL, [reader_id])


_STANDING_SQL = (
    f"SELECT id, user_id, is_active, deleted_at FROM {Reader._meta.db_table} WHERE id = %s"
)


def reader_standing(reader_id: int, *, active_only: bool = True) -> Reader | None:
    """The reader with this id (active only, unless told), only its standing columns: one raw
    statement, the other fields deferred and read if touched. For the hot paths that need no
    more than who the reader is and whether they may act (an API request, opening a credit
    order)."""
    return one_row(Reader, _STANDING_SQL + (" AND is_active" if active_only else ""), [reader_id])


def reader_by_channel_identity(*, provider: str, external_id: str) -> Reader | None:
    return (
        Reader.objects.filter(
            channel_identities__provider=provider,
            channel_identities__external_id=external_id,
            is_active=True,
        )
        .distinct()
        .first()
    )


def bound_external_ids(*, provider: str) -> QuerySet[ChannelIdentity, Any]:
    """The provider ids bound to some reader (a subquery: ``external_id`` values)."""
    return ChannelIdentity.objects.filter(provider=provider).values("external_id")


def channel_identities(*, reader: Reader) -> list[ChannelIdentity]:
    return list(reader.channel_identities.order_by("provider"))


def reader_by_id_number(*, id_number: str) -> Reader | None:
    """The reader with this ID number (any form: 15 digits, lower-case x), or None. Callers that
    show the result to staff audit the lookup (``xinyue.core.audit.record``)."""
    from xinyue.readers.services.identity import id_number_index

    try:
        number = parse_id_number(id_number).number
    except InvalidInput:
        return None
    return Reader.objects.filter(id_number_index=id_number_index(number)).first()


@dataclass(frozen=True)
class ReaderPII:
    """Decrypted personal data of one reader. Never log it or render it without masking."""

    id_number: str
    name: str
    phone: str

    def masked(self) -> dict[str, str]:
        return {
            "id_number": mask_id_number(self.id_number),
            "name": mask_name(self.name),
            "phone": mask_phone(self.phone),
        }


def reader_pii(*, reader: Reader) -> ReaderPII:
    return ReaderPII(
        id_number=vault.unseal(reader, "id_number_ct"),
        name=vault.unseal(reader, "name_ct"),
        phone=vault.unseal(reader, "phone_ct"),
    )


def masked_identity(*, reader: Reader) -> dict[str, Any]:
    """What pages and the API show about a reader: masked PII and the derived facts."""
    return {
        **reader_pii(reader=reader).masked(),
        "phone_verified": reader.phone_verified_at is not None,
        "gender": reader.gender,
        "birth_year": reader.birth_year,
        "region_code": reader.region_code,
        "registered_at": reader.created_at,
    }


def sms_verification_on() -> bool:
    return bool(settings.XINYUE_SMS_VERIFICATION)


def needs_phone_verification(*, reader: Reader) -> bool:
    """True when the platform verifies phones by SMS and this reader's is not verified yet."""
    return sms_verification_on() and reader.phone_verified_at is None
