"""Reads of the suppliers app: which supplier a call acts for, its webhook subscriptions and
their latest deliveries."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from xinyue.core.actors import Actor, ActorKind
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.suppliers.models import Supplier, SupplierWebhookDelivery, SupplierWebhookSubscription


def acting_supplier(*, actor: Actor, supplier_code: str | None) -> Supplier:
    """The supplier a call acts for: a supplier's own staff or key act for their supplier (naming
    another is refused); the operator names one with ``supplier_code``."""
    if actor.kind is ActorKind.SUPPLIER and actor.supplier_id is not None:
        supplier = Supplier.objects.filter(pk=actor.supplier_id).first()
        if supplier is None or (supplier_code and supplier_code != supplier.code):
            raise PermissionDenied(_("不能操作其他书商的数据"))
        return supplier
    if actor.is_operator:
        if not supplier_code:
            raise InvalidInput(fields={"supplier_code": _("请指明书商")})
        supplier = Supplier.objects.filter(code=supplier_code).first()
        if supplier is None:
            raise InvalidInput(fields={"supplier_code": _("书商不存在")})
        return supplier
    raise PermissionDenied(_("只有书商可以操作"))


def listening_suppliers(supplier_ids: Iterable[int] | QuerySet) -> set[int]:
    """Which of these suppliers have an active webhook subscription (one statement; a queryset
    of ids is read as a subquery): a service announcing a step builds events only for them.
    A list of ids is read raw: placing asks for every batch, and compiling the ORM's filter cost
    several times the statement."""
    if not isinstance(supplier_ids, QuerySet):
        ids = [int(i) for i in supplier_ids]
        if not ids:
            return set()
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT DISTINCT supplier_id FROM {SupplierWebhookSubscription._meta.db_table}"
                f" WHERE is_active AND supplier_id IN ({', '.join(['%s'] * len(ids))})",
                ids,
            )
            return {row[0] for row in cursor.fetchall()}
    return set(
        SupplierWebhookSubscription.objects.filter(is_active=True, supplier_id__in=supplier_ids)
        .values_list("supplier_id", flat=True)
        .distinct()
    )


def webhook_subscriptions(*, supplier: Supplier) -> QuerySet[SupplierWebhookSubscription]:
    return SupplierWebhookSubscription.objects.filter(supplier=supplier).order_by("id")


def recent_webhook_deliveries(
    *, supplier: Supplier, limit: int = 50
) -> QuerySet[SupplierWebhookDelivery]:
    return (
        SupplierWebhookDelivery.objects.filter(subscription__supplier=supplier)
        .select_related("subscription")
        .order_by("-created_at")[:limit]
    )
