"""Delivery addresses of a reader: sealed detail, recipient and phone; district code in clear so
orders can check the address is inside the province (DESIGN §4)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput, NotFound
from xinyue.readers import vault
from xinyue.readers.masking import mask_name, mask_phone
from xinyue.readers.models import Address, Reader
from xinyue.readers.services.identity import require_self
from xinyue.readers.validation import clean_district_code, clean_name, clean_phone

MAX_ADDRESSES = 10


@dataclass(frozen=True)
class AddressView:
    """An address opened from the vault (for an order form); ``masked()`` for display."""

    uid: str
    district_code: str
    detail: str
    recipient: str
    phone: str
    is_default: bool

    def masked(self) -> dict[str, object]:
        return {
            "uid": self.uid,
            "district_code": self.district_code,
            "detail": self.detail[:6] + "…" if len(self.detail) > 6 else self.detail,
            "recipient": mask_name(self.recipient),
            "phone": mask_phone(self.phone),
            "is_default": self.is_default,
        }


def open_address(address: Address) -> AddressView:
    return AddressView(
        uid=str(address.uid),
        district_code=address.district_code,
        detail=vault.unseal(address, "detail_ct"),
        recipient=vault.unseal(address, "recipient_ct"),
        phone=vault.unseal(address, "phone_ct"),
        is_default=address.is_default,
    )


def reader_addresses(*, reader: Reader) -> list[AddressView]:
    return [open_address(a) for a in Address.objects.filter(reader=reader)]


@transaction.atomic
def add_address(
    *,
    actor: Actor,
    reader: Reader,
    district_code: str,
    detail: str,
    recipient: str,
    phone: str,
    is_default: bool = False,
) -> Address:
    require_self(actor, reader)
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    detail = " ".join((detail or "").split())
    if not 4 <= len(detail) <= 200:
        errors["detail"] = _("详细地址应为4至200个字")
    checks = (
        ("district_code", clean_district_code, district_code),
        ("recipient", clean_name, recipient),
        ("phone", clean_phone, phone),
    )
    for field, check, raw in checks:
        try:
            values[field] = check(raw)
        except InvalidInput as exc:
            errors[field] = next(iter(exc.fields.values()))
    if errors:
        raise InvalidInput(fields=errors)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    existing = Address.objects.filter(reader=reader)
    if existing.count() >= MAX_ADDRESSES:
        raise InvalidInput(fields={"detail": _("最多保存10个地址")})
    is_default = is_default or not existing.exists()
    if is_default:
        existing.update(is_default=False)
    address = Address(reader=reader, district_code=values["district_code"], is_default=is_default)
    vault.seal(address, "detail_ct", detail)
    vault.seal(address, "recipient_ct", values["recipient"])
    vault.seal(address, "phone_ct", values["phone"])
    address.save()
    audit.record(actor=actor, action="reader.address_added", obj=reader)
    return address


@transaction.atomic
def delete_address(*, actor: Actor, reader: Reader, uid: str) -> None:
    require_self(actor, reader)
    deleted, _count = Address.objects.filter(reader=reader, uid=uid).delete()
    if not deleted:
        raise NotFound(_("找不到该地址"))
    if not Address.objects.filter(reader=reader, is_default=True).exists():
        first = Address.objects.filter(reader=reader).order_by("id").first()
        if first is not None:
            Address.objects.filter(pk=first.pk).update(is_default=True)
    audit.record(actor=actor, action="reader.address_deleted", obj=reader)
