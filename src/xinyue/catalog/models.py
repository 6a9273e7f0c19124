"""Catalog: suppliers (booksellers) now; titles, offers, search and curation come with the catalog issue."""

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
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name
