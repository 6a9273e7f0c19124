"""Items and platform loans made from orders: an item per shipped platform order line and a
platform loan per delivered line (called by the orders app through ``xinyue.orders.hooks``,
inside its transaction)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinyue.circulation.models import CreditRecord, Item, ItemEvent, Loan, LoanEvent, Program
from xinyue.circulation.services import credit_sync
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.libraries.selectors import operator_library


def _operator_library():
    library = operator_library()
    if library is None:
        raise InvalidInput(fields={"library": _("平台尚未设置运营方（省馆）")})
    return library


def create_platform_items(*, actor: Actor, lines: Sequence) -> list[Item]:
    """One item per shipped order line: owned by the operator library, in transit to the reader,
    with its provenance (supplier, order line, list price, date)."""
    owner = _operator_library()
    today = clock.today()
    items = []
    for line in lines:
        try:
            with transaction.atomic():
                item = Item.objects.create(
                    barcode=line.barcode,
                    title_id=line.title_id,
                    program=Program.PLATFORM,
                    owning_library=owner,
                    current_library=None,
                    status=Item.Status.IN_TRANSIT,
                    supplier_id=line.supplier_id,
                    order_line=line,
                    list_price_fen=line.list_price_fen,
                    acquired_on=today,
                )
        except IntegrityError:
            raise InvalidInput(
                fields={"lines": _("条码已被使用：%(code)s") % {"code": line.barcode}}
            ) from None
        ItemEvent.record(item=item, actor=actor, to_state=Item.Status.IN_TRANSIT, note="shipped")
        items.append(item)
    return items


def start_platform_loans(*, actor: Actor, order, lines: Sequence) -> list[Loan]:
    """A platform loan per delivered line, due ``order.loan_days`` after today (Asia/Shanghai)."""
    owner = _operator_library()
    now = clock.now()
    due = clock.today() + dt.timedelta(days=order.loan_days)
    loans = []
    for line in lines:
        item = Item.objects.select_for_update().get(order_line=line)
        before = item.status
        item.status = Item.Status.ON_LOAN
        item.save(update_fields=["status", "updated_at"])
        ItemEvent.record(item=item, actor=actor, from_state=before, to_state=item.status)
        loan = Loan.objects.create(
            program=Program.PLATFORM,
            reader_id=order.reader_id,
            item=item,
            library=owner,
            order_line=line,
            credit_reference=order.credit_reference,
            status=Loan.Status.ON_LOAN,
            started_at=now,
            due_on=due,
        )
        LoanEvent.record(loan=loan, actor=actor, to_state=Loan.Status.ON_LOAN, note=order.number)
        credit_sync.record(loan=loan, kind=CreditRecord.Kind.BORROW)
        loans.append(loan)
    return loans
