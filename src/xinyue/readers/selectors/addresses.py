"""Reads of a reader's delivery address book (the order form picks from it). Addresses are
opened from the vault only here; lists show them masked (``AddressView.masked``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from xinyue.core.actors import Actor
from xinyue.libraries import divisions
from xinyue.readers import vault
from xinyue.readers.errors import AddressNotFound
from xinyue.readers.masking import mask_name, mask_phone
from xinyue.readers.models import Address, Reader
from xinyue.readers.services.identity import require_self

MASKED_DETAIL_CHARS = 6


@dataclass(frozen=True)
class AddressView:
    """An address opened from the vault; ``masked()`` is what lists and the API show."""

    uid: str
    district_code: str
    region: str  # "浙江省杭州市西湖区"
    detail: str
    recipient: str
    phone: str
    is_default: bool

    @property
    def city_code(self) -> str:
        return self.district_code[:4] + "00"

    def masked(self) -> dict[str, object]:
        detail = self.detail
        if len(detail) > MASKED_DETAIL_CHARS:
            detail = detail[:MASKED_DETAIL_CHARS] + "…"
        return {
            "uid": self.uid,
            "district_code": self.district_code,
            "region": self.region,
            "detail": detail,
            "recipient": mask_name(self.recipient),
            "phone": mask_phone(self.phone),
            "is_default": self.is_default,
        }


def open_address(address: Address) -> AddressView:
    return AddressView(
        uid=str(address.uid),
        district_code=address.district_code,
        region=divisions.full_name(address.district_code),
        detail=vault.unseal(address, "detail_ct"),
        recipient=vault.unseal(address, "recipient_ct"),
        phone=vault.unseal(address, "phone_ct"),
        is_default=address.is_default,
    )


def reader_addresses(*, actor: Actor, reader: Reader) -> list[AddressView]:
    """The reader's addresses, the default first, then in the order they were added."""
    require_self(actor, reader)
    return [open_address(a) for a in Address.objects.filter(reader=reader)]


def reader_address(*, actor: Actor, reader: Reader, uid: str) -> AddressView:
    """One of the reader's addresses by its public id (another reader's is "not found")."""
    require_self(actor, reader)
    return open_address(address_row(reader=reader, uid=uid))


def address_row(*, reader: Reader, uid: str) -> Address:
    """The stored row of one of ``reader``'s addresses; a malformed or foreign uid is not found."""
    try:
        return Address.objects.get(reader=reader, uid=uuid.UUID(str(uid)))
    except (Address.DoesNotExist, ValueError):
        raise AddressNotFound() from None
