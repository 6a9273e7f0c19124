"""Reads of the credit app: provider settings, a reader's current admittance, authorizations."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.errors import PermissionDenied
from xinyue.core.permissions import Action, allowed
from xinyue.core.rows import row_where
from xinyue.credit import conf
from xinyue.credit.errors import AuthorizationNotFound, CreditOrderNotFound
from xinyue.credit.models import CreditAuthorization, CreditOrder, Provider, ProviderSetting

# Per provider: the default threshold, and the scale an operator may choose from. Zhima scores
# run 350–950 (``admittance_score`` must be in that range); WeChat Pay Score 300–850.
DEFAULTS = {
    Provider.SANDBOX: {"threshold": 550, "validity_days": 30, "enabled": True},
    Provider.ZHIMA: {"threshold": 550, "validity_days": 30, "enabled": True},
    Provider.WECHAT_PAYSCORE: {"threshold": 550, "validity_days": 30, "enabled": True},
}
SCALES = {
    Provider.SANDBOX: (350, 950),
    Provider.ZHIMA: (350, 950),
    Provider.WECHAT_PAYSCORE: (300, 850),
}
MAX_VALIDITY_DAYS = 365


@dataclass(frozen=True)
class Admittance:
    """A reader's standing credit decision (read by the cards app and by orders)."""

    admitted: bool
    provider: str
    threshold: int
    decided_at: dt.datetime
    expires_at: dt.datetime | None
    authorization_id: int


def provider_setting(provider: str) -> ProviderSetting:
    """The setting row of ``provider``, or an unsaved one holding the defaults."""
    setting = row_where(ProviderSetting, "provider = %s", [provider])
    if setting is None:
        setting = ProviderSetting(provider=provider, **DEFAULTS[Provider(provider)])
    return setting


def provider_settings() -> list[ProviderSetting]:
    rows = {s.provider: s for s in ProviderSetting.objects.all()}
    return [rows.get(p.value) or provider_setting(p.value) for p in Provider]


def provider_is_configured(provider: str) -> bool:
    return conf.is_configured(provider)


def available_providers() -> list[ProviderSetting]:
    """Providers a reader may choose: switched on by the operator and configured here."""
    return [s for s in provider_settings() if s.enabled and conf.is_configured(s.provider)]


def current_admittance(*, reader) -> Admittance | None:
    """The reader's latest decision while it is valid; None without one, once it expired, or
    while the reader's consent to the credit check is withdrawn (the decision then stands void).
    """
    return current_admittances(readers=[reader]).get(reader.pk)


def current_admittances(*, readers: Sequence[Any]) -> dict[int, Admittance]:
    """``current_admittance`` of many readers in two statements (placing checks a whole batch of
    orders at once): reader id → admittance, for those that have a valid one."""
    from xinyue.readers.selectors import readers_consenting

    ids = sorted({reader.pk for reader in readers})
    if not ids:
        return {}
    # Written as SQL: it runs for every order a reader places (docs/decisions.md, "Placing: the
    # hot path in SQL, writes per batch"); the ORM built this query ~10× slower than ran it.
    # Newest first per reader: the first row of each reader is its latest decision.
    marks = ", ".join(["%s"] * len(ids))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reader_id, id, status, provider, threshold, decided_at, expires_at"
            f" FROM credit_creditauthorization WHERE reader_id IN ({marks}) AND status IN (%s, %s)"
            " ORDER BY reader_id, decided_at DESC, id DESC",
            [*ids, CreditAuthorization.Status.ADMITTED, CreditAuthorization.Status.REFUSED],
        )
        rows = cursor.fetchall()
    latest: dict[int, tuple] = {}
    for row in rows:
        latest.setdefault(row[0], row)
    now = clock.now()
    valid = {}
    for reader_id, (_r, pk, status, provider, threshold, decided_at, expires_at) in latest.items():
        expires_at = _db_datetime(expires_at)
        if expires_at is not None and expires_at <= now:
            continue
        valid[reader_id] = Admittance(
            admitted=status == CreditAuthorization.Status.ADMITTED,
            provider=provider,
            threshold=threshold,
            decided_at=_db_datetime(decided_at),
            expires_at=expires_at,
            authorization_id=pk,
        )
    active = {reader.pk for reader in readers if reader.is_active}
    consenting = readers_consenting(reader_ids=sorted(set(valid) & active), purpose="credit_check")
    return {reader_id: a for reader_id, a in valid.items() if reader_id in consenting}


def _db_datetime(value: Any) -> dt.datetime | None:
    """A datetime column read by a cursor, as the ORM would give it (aware on SQLite too)."""
    if value is None or connection.vendor != "sqlite":
        return value
    return connection.ops.convert_datetimefield_value(value, None, connection)  # type: ignore[attr-defined]


def _may_see_reader(actor: Actor, reader_id: int) -> bool:
    return allowed(actor, Action.SEE_CREDIT, reader_id=reader_id)


def authorization_get(*, actor: Actor, authorization_id: int) -> CreditAuthorization:
    """One authorization: the reader's own (others get "not found"), or any for the operator."""
    authorization = CreditAuthorization.objects.filter(pk=authorization_id).first()
    if authorization is None or not _may_see_reader(actor, authorization.reader_id):
        raise AuthorizationNotFound(authorization_id=authorization_id)
    return authorization


def authorizations_of(*, actor: Actor, reader) -> QuerySet[CreditAuthorization]:
    if not _may_see_reader(actor, reader.pk):
        raise PermissionDenied()
    return CreditAuthorization.objects.filter(reader=reader).order_by("-created_at", "-id")


def latest_authorization(*, reader, provider: str | None = None) -> CreditAuthorization | None:
    queryset = CreditAuthorization.objects.filter(reader=reader)
    if provider:
        queryset = queryset.filter(provider=provider)
    return queryset.order_by("-created_at", "-id").first()


def credit_order_get(*, out_order_no: str) -> CreditOrder:
    order = CreditOrder.objects.filter(out_order_no=out_order_no).first()
    if order is None:
        raise CreditOrderNotFound(out_order_no=out_order_no)
    return order


# Read raw by their keys (``core.rows``): opening a credit order, each answer and each
# notification read some, and building the filter through the query compiler cost more than the
# read (``docs/decisions.md``, "Credit orders: the worker's CPU per order").


def credit_order_by_reference(*, reference: str) -> CreditOrder | None:
    return row_where(CreditOrder, "reference = %s", [reference])


def provider_user_id(authorization_id: int) -> str:
    """The reader's identity at the provider, as the authorization recorded it."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT provider_user_id FROM {CreditAuthorization._meta.db_table} WHERE id = %s",
            [authorization_id],
        )
        row = cursor.fetchone()
    if row is None:
        raise CreditAuthorization.DoesNotExist(f"authorization {authorization_id}")
    return row[0]


def credit_order_by_out_order_no(*, provider: str, out_order_no: str) -> CreditOrder | None:
    """The order a provider's notification names (its key at that provider)."""
    return row_where(CreditOrder, "out_order_no = %s AND provider = %s", [out_order_no, provider])


def locked_credit_order(pk: int) -> CreditOrder:
    """The credit order, its row locked until the caller's transaction ends (PostgreSQL; SQLite
    has one writer). Raw, as the reads above."""
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    order = row_where(CreditOrder, f"id = %s{lock}", [pk])
    if order is None:
        raise CreditOrder.DoesNotExist(f"credit order {pk}")
    return order
