"""Supplier changes."""

from __future__ import annotations

import re

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_operator
from xinyue.suppliers.errors import SupplierCodeTaken
from xinyue.suppliers.models import Supplier

SUPPLIER_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")


@transaction.atomic
def create_supplier(
    *, actor: Actor, code: str, name: str, contact: str = "", phone: str = ""
) -> Supplier:
    """The operator registers a supplier; its code names it in imports, API keys and orders."""
    require_operator(actor)
    code = code.strip().lower()
    if not SUPPLIER_CODE.match(code):
        raise InvalidInput(fields={"code": _("代码应为 2–40 位小写字母、数字或连字符")})
    if not name.strip():
        raise InvalidInput(fields={"name": _("请填写书商名称")})
    if Supplier.objects.filter(code=code).exists():
        raise SupplierCodeTaken(code=code)
    supplier = Supplier.objects.create(
        code=code, name=name.strip(), contact=contact.strip(), phone=phone.strip()
    )
    audit.record(actor=actor, action="supplier.created", obj=supplier, code=code)
    return supplier
