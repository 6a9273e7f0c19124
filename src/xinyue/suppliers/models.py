"""Suppliers (书商): the organisations that offer new books and ship platform orders.

An organisation like a member library, below accounts (a supplier's staff are users) and below
the catalog (a supplier's offers are catalog rows).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from xinyue.core.models import BaseModel


class Supplier(BaseModel):
    code = models.SlugField(_("代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    contact = models.CharField(_("联系人"), max_length=100, blank=True)
    phone = models.CharField(_("联系电话"), max_length=40, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        # The table was created by the catalog app; the model moved, the data stayed.
        db_table = "catalog_supplier"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
