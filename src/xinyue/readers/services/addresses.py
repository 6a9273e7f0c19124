"""A reader's delivery address book: sealed detail, recipient and phone; the district code in
clear so that orders can check the address is inside the province (DESIGN §4). Orders pick from
this book (``selectors.addresses.reader_addresses``)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.readers import vault
from xinyue.readers.models import Address, Reader
from xinyue.readers.selectors.addresses import address_row
from xinyue.readers.services.identity import require_self
from xinyue.readers.validation import (
    clean_address_detail,
    clean_district_code,
    clean_name,
    clean_phone,
)

MAX_ADDRESSES = 10


def _clean_recipient(raw: str) -> str:
    if not (raw or "").strip():
        raise InvalidInput(fields={"recipient": _("请填写收件人姓名")})
    try:
        return clean_name(raw)
    except InvalidInput:
        raise InvalidInput(
            fields={"recipient": _("收件人姓名应为2至30个汉字或字母（少数民族姓名可含“·”）")}
        ) from None


def _clean_phone(raw: str) -> str:
    if not (raw or "").strip():
        raise InvalidInput(fields={"phone": _("请填写收件人手机号")})
    try:
        return clean_phone(raw)
    except InvalidInput:
        raise InvalidInput(fields={"phone": _("收件人手机号应为11位，以1开头")}) from None


_CHECKS = {
    "district_code": clean_district_code,
    "detail": clean_address_detail,
    "recipient": _clean_recipient,
    "phone": _clean_phone,
}


def _clean(raw: dict[str, str]) -> dict[str, str]:
    """Every given field checked; all the errors at once, each naming its field."""
    errors: dict[str, str] = {}
    values: dict[str, str] = {}
    for field, value in raw.items():
        try:
            values[field] = _CHECKS[field](value)
        except InvalidInput as exc:
            errors[field] = next(iter(exc.fields.values()))
    if errors:
        raise InvalidInput(fields=errors)
    return values


def _seal(address: Address, values: dict[str, str]) -> None:
    if "district_code" in values:
        address.district_code = values["district_code"]
    for field in ("detail", "recipient", "phone"):
        if field in values:
            vault.seal(address, f"{field}_ct", values[field])


def _make_default(reader: Reader, address: Address) -> None:
    Address.objects.filter(reader=reader, is_default=True).exclude(pk=address.pk).update(
        is_default=False
    )
    if not address.is_default:
        address.is_default = True
        address.save(update_fields=["is_default", "updated_at"])


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
    """Add an address; the first one, or one asked to be, becomes the default."""
    require_self(actor, reader)
    values = _clean(
        {"district_code": district_code, "detail": detail, "recipient": recipient, "phone": phone}
    )
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    existing = Address.objects.filter(reader=reader)
    if existing.count() >= MAX_ADDRESSES:
        raise InvalidInput(fields={"detail": _("最多保存10个地址")})
    address = Address(reader=reader, is_default=False)
    _seal(address, values)
    make_default = is_default or not existing.exists()
    address.save()
    if make_default:
        _make_default(reader, address)
    audit.record(actor=actor, action="reader.address_added", obj=reader)
    return address


@transaction.atomic
def update_address(
    *,
    actor: Actor,
    reader: Reader,
    uid: str,
    district_code: str | None = None,
    detail: str | None = None,
    recipient: str | None = None,
    phone: str | None = None,
) -> Address:
    """Change the given fields of one of the reader's addresses (None = keep)."""
    require_self(actor, reader)
    given = {
        "district_code": district_code,
        "detail": detail,
        "recipient": recipient,
        "phone": phone,
    }
    values = _clean({k: v for k, v in given.items() if v is not None})
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    address = address_row(reader=reader, uid=uid)
    _seal(address, values)
    address.save()
    audit.record(actor=actor, action="reader.address_updated", obj=reader, fields=sorted(values))
    return address


@transaction.atomic
def set_default_address(*, actor: Actor, reader: Reader, uid: str) -> Address:
    """Make one of the reader's addresses the default (the order form's first choice)."""
    require_self(actor, reader)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    address = address_row(reader=reader, uid=uid)
    _make_default(reader, address)
    audit.record(actor=actor, action="reader.address_default_set", obj=reader)
    return address


@transaction.atomic
def delete_address(*, actor: Actor, reader: Reader, uid: str) -> None:
    """Delete an address; if it was the default, the oldest remaining one becomes the default."""
    require_self(actor, reader)
    reader = Reader.objects.select_for_update().get(pk=reader.pk)
    address = address_row(reader=reader, uid=uid)
    address.delete()
    if not Address.objects.filter(reader=reader, is_default=True).exists():
        first = Address.objects.filter(reader=reader).order_by("id").first()
        if first is not None:
            _make_default(reader, first)
    audit.record(actor=actor, action="reader.address_deleted", obj=reader)
