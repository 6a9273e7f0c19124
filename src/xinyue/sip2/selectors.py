"""Reads of the SIP2 app: a library's kiosk accounts."""

from __future__ import annotations

from django.db.models import QuerySet

from xinyue.core.actors import Actor
from xinyue.core.permissions import Action, require
from xinyue.libraries.models import Library
from xinyue.sip2.models import KioskAccount


def library_kiosks(*, actor: Actor, library: Library) -> QuerySet[KioskAccount]:
    require(actor, Action.MANAGE_KIOSKS, library_id=library.pk)
    return KioskAccount.objects.filter(library=library).order_by("login")


def kiosk_get(*, actor: Actor, library: Library, pk: int) -> KioskAccount | None:
    return library_kiosks(actor=actor, library=library).filter(pk=pk).first()
