"""The desk (and the kiosk, through SIP2): check-in and check-out of items by barcode.

Check-in closes the loan whoever the reader is and whatever their state (returns are never
blocked). A platform book checked in at any member library becomes that library's: its owning
and current library change, its provenance (supplier, order line, price, acquisition) stays, the
transfer is recorded, and the library's own system hears of it (signed webhook
``book.transferred``; MARC pull). A local book floats to the returning library only when its
owning library allows it (``local_books_float``); otherwise it is sent home.

Both are idempotent, because kiosks retry: a repeated check-in answers what the first one did
(``already_returned=True``) and changes nothing; a repeated check-out by the same reader returns
the same open loan.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.circulation import selectors
from xinyue.circulation.errors import (
    ItemNotOnLoan,
    ItemUnknown,
    NotLendableHere,
    QuotaReached,
    ReaderBlocked,
)
from xinyue.circulation.models import (
    CreditRecord,
    Item,
    ItemEvent,
    ItemTransfer,
    Loan,
    LoanEvent,
    Program,
)
from xinyue.circulation.services import credit_sync
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.history import Audit, Webhook, record_transition
from xinyue.core.permissions import Action, require
from xinyue.libraries.models import Library
from xinyue.libraries.settings_schema import library_setting
from xinyue.readers.models import Reader

BARCODE_RE = re.compile(r"^[A-Za-z0-9-]{4,40}$")


@dataclass(frozen=True)
class CheckinResult:
    """What a check-in did, for the desk page, the API and the kiosk's screen message."""

    item: Item
    loan: Loan | None
    transferred: bool  # the item now belongs to this library
    already_returned: bool
    message: str


def clean_barcode(barcode: str) -> str:
    value = (barcode or "").strip()
    if not BARCODE_RE.match(value):
        raise InvalidInput(fields={"barcode": _("条码应为4–40位字母、数字或连字符")})
    return value


def _require_desk(actor: Actor, library: Library) -> None:
    require(actor, Action.CIRCULATE, library_id=library.pk)


def _item(barcode: str, *, lock: bool) -> Item:
    queryset = Item.objects.select_related("title", "owning_library")
    if lock:
        queryset = queryset.select_for_update()
    item = queryset.filter(barcode=barcode).first()
    if item is None:
        raise ItemUnknown(barcode=barcode)
    return item


def _checkin_message(item: Item, loan: Loan, library: Library, *, transferred: bool) -> str:
    title = item.title.title
    if transferred:
        return _(
            "《%(title)s》已归还。本书已转入%(library)s馆藏，是本馆新入藏的图书，可上架外借。"
        ) % {
            "title": title,
            "library": library.name,
        }
    if item.owning_library_id != library.pk:
        return _("《%(title)s》已归还。本书属于%(owner)s，请送回该馆。") % {
            "title": title,
            "owner": item.owning_library.name,
        }
    return _("《%(title)s》已归还，请上架。") % {"title": title}


def _floats_here(item: Item, library: Library) -> bool:
    if item.owning_library_id == library.pk:
        return False
    if item.program == Program.PLATFORM:
        return True  # "还到哪里就在哪里流通"
    return bool(library_setting(item.owning_library, "local_books_float"))


def check_in(*, actor: Actor, library: Library, barcode: str) -> CheckinResult:
    """Take a book back at ``library``'s desk or kiosk: the loan is returned, a platform book (or
    a floating local one) becomes this library's, the credit order completes at the provider
    after the commit. Idempotent: a second check-in of the returned book changes nothing."""
    _require_desk(actor, library)
    barcode = clean_barcode(barcode)
    with transaction.atomic():
        item = _item(barcode, lock=True)
        loan = (
            Loan.objects.select_for_update()
            .filter(item=item, status=Loan.Status.ON_LOAN)
            .select_related("reader")
            .first()
        )
        if loan is None and item.status == Item.Status.LOST:
            loan = _found_lost(actor, item, library)
            if loan is None:
                raise ItemNotOnLoan(barcode=barcode, status=item.status)
            if loan.status == Loan.Status.SETTLED:
                return _return_settled(actor, item, loan, library)
        if loan is None:
            last = (
                Loan.objects.filter(item=item, status=Loan.Status.RETURNED)
                .order_by("-returned_at", "-id")
                .first()
            )
            if (
                last is not None
                and last.returned_library_id == library.pk
                and item.current_library_id == library.pk
                and item.status in (Item.Status.AVAILABLE, Item.Status.IN_TRANSIT)
            ):
                transferred = last.return_transferred
                return CheckinResult(
                    item=item,
                    loan=last,
                    transferred=transferred,
                    already_returned=True,
                    message=_checkin_message(item, last, library, transferred=transferred),
                )
            found = Loan.objects.filter(item=item).order_by("-id").first()
            if (
                found is not None
                and found.status == Loan.Status.SETTLED
                and item.current_library_id == library.pk
                and item.status == Item.Status.AVAILABLE
            ):  # a found book scanned again here (a kiosk's retry): the same answer, no change
                return CheckinResult(
                    item=item,
                    loan=found,
                    transferred=item.owning_library_id == library.pk,
                    already_returned=True,
                    message=_("这册书曾登记遗失并已赔付，现已找回，入藏本馆"),
                )
            if item.status == Item.Status.IN_TRANSIT and item.owning_library_id == library.pk:
                return _receive_home(actor, item, last, library)
            raise ItemNotOnLoan(barcode=barcode, status=item.status)
        now = clock.now()
        transferred = _floats_here(item, library)
        previous_owner = item.owning_library
        loan_before = loan.status
        loan.status = Loan.Status.RETURNED
        loan.returned_at = now
        loan.returned_library = library
        loan.return_transferred = transferred
        loan.save()
        credit_sync.record(loan=loan, kind=CreditRecord.Kind.RETURN)
        record_transition(
            LoanEvent,
            loan=loan,
            actor=actor,
            from_state=loan_before,
            to_state=Loan.Status.RETURNED,
            note=library.code,
            audit=Audit(
                "loan.returned",
                library_code=library.code,
                detail={"barcode": item.barcode, "program": loan.program},
            ),
        )
        before = item.status
        item.current_library = library
        if transferred:
            item.owning_library = library
            item.transferred_at = now
            ItemTransfer.objects.create(
                item=item, from_library=previous_owner, to_library=library, loan=loan, at=now
            )
        item.status = (
            Item.Status.AVAILABLE
            if item.owning_library_id == library.pk
            else Item.Status.IN_TRANSIT  # a local book going home
        )
        item.save()
        if transferred:
            record_transition(
                ItemEvent,
                item=item,
                actor=actor,
                from_state=before,
                to_state=item.status,
                note=f"{previous_owner.code}→{library.code}",
                audit=Audit(
                    "item.transferred",
                    library_code=library.code,
                    detail={"barcode": item.barcode, "from_library": previous_owner.code},
                ),
                webhook=Webhook(
                    library=library,
                    event_type="book.transferred",
                    data=transfer_payload(item, previous_owner=previous_owner, at=now),
                ),
            )
        else:
            record_transition(
                ItemEvent, item=item, actor=actor, from_state=before, to_state=item.status
            )
        if loan.program == Program.PLATFORM:
            from xinyue.orders.services import release_platform_volumes

            release_platform_volumes(reader_id=loan.reader_id, volumes=1)
    return CheckinResult(
        item=item,
        loan=loan,
        transferred=transferred,
        already_returned=False,
        message=_checkin_message(item, loan, library, transferred=transferred),
    )


def _found_lost(actor: Actor, item: Item, library: Library) -> Loan | None:
    """A book declared lost is checked in. Policy: if its compensation has not reached the
    provider (the charge row still pending, or nothing charged yet), the loss is undone — the
    charge is withdrawn and the loan is returned as a late return, so nothing is ever charged. If
    it was charged or paid at a desk, the loan stays settled, the book comes back into
    circulation at this library, and the compensation is owed back to the reader at a desk
    (``_return_settled``). Never two charges."""
    loan = (
        Loan.objects.select_for_update()
        .filter(item=item, status__in=[Loan.Status.LOST, Loan.Status.SETTLED])
        .select_related("reader", "library")
        .order_by("-id")
        .first()
    )
    if loan is None or loan.status == Loan.Status.SETTLED:
        return loan
    charge = CreditRecord.objects.select_for_update().filter(
        loan=loan, kind=CreditRecord.Kind.CHARGE
    )
    row = charge.first()
    if row is not None and row.state == CreditRecord.State.SENT:
        from xinyue.circulation.services.overdue import settle_loan

        return settle_loan(actor=actor, loan=loan, by="provider")
    charge.update(state=CreditRecord.State.CANCELLED, last_error="found before the charge")
    loan.compensation_fen = 0
    return loan


def _return_settled(actor: Actor, item: Item, loan: Loan, library: Library) -> CheckinResult:
    """A compensated book found and brought to ``library``: it joins this library's shelf (as a
    platform book would at a return), the settled loan is not touched."""
    before = item.status
    previous_owner = item.owning_library
    transferred = _floats_here(item, library) or item.program == Program.PLATFORM
    item.current_library = library
    if transferred and previous_owner.pk != library.pk:
        item.owning_library = library
        item.transferred_at = clock.now()
        ItemTransfer.objects.create(
            item=item, from_library=previous_owner, to_library=library, at=clock.now()
        )
    item.status = Item.Status.AVAILABLE
    item.save()
    record_transition(
        ItemEvent,
        item=item,
        actor=actor,
        from_state=before,
        to_state=item.status,
        note="found",
        audit=Audit(
            "item.found",
            library_code=library.code,
            detail={"barcode": item.barcode, "loan_status": loan.status},
        ),
    )
    refund = _owe_refund(actor, loan, library)
    message = _("这册书曾登记遗失并已赔付，现已找回，入藏本馆")
    if refund:
        message += _("。请在服务台向读者退还赔偿款 %(yuan)s 元并登记退款") % {
            "yuan": f"{refund / 100:.2f}"
        }
    return CheckinResult(
        item=item, loan=loan, transferred=transferred, already_returned=True, message=message
    )


def _owe_refund(actor: Actor, loan: Loan, library: Library) -> int:
    """The found book's compensation is owed back to the reader (the copy is back, so the
    reader should not pay for it). Neither credit-borrowing protocol we speak can give back a
    completed order's deduction (Zhima 信用借还 has create/modify/complete/cancel, cancel only
    before the book left; WeChat Pay Score may modify the amount only before the user paid), so
    the refund is recorded as due at a desk (``refund_compensation_at_desk``), once; what the
    deposit cap left unpaid is no longer owed. Returns the amount to give back (0 when already
    recorded or refunded, or nothing was paid)."""
    locked = Loan.objects.select_for_update().get(pk=loan.pk)
    if locked.refund_due_fen or locked.refunded_at is not None:
        return 0
    # What the reader paid: the provider's share and any desk payment; not what is still unpaid.
    paid = locked.compensation_fen - locked.compensation_unpaid_fen
    unpaid = locked.compensation_unpaid_fen
    if paid <= 0 and not unpaid:
        return 0
    locked.refund_due_fen = max(paid, 0)
    locked.compensation_unpaid_fen = 0
    locked.save(update_fields=["refund_due_fen", "compensation_unpaid_fen", "updated_at"])
    record_transition(
        LoanEvent,
        loan=locked,
        actor=actor,
        note="refund_due",
        audit=Audit(
            "loan.refund_due",
            library_code=library.code,
            detail={
                "loan": locked.pk,
                "refund_fen": locked.refund_due_fen,
                "unpaid_cancelled_fen": unpaid,
                "settled_by": locked.settled_by,
            },
        ),
    )
    return locked.refund_due_fen


def _receive_home(actor: Actor, item: Item, last: Loan | None, library: Library) -> CheckinResult:
    """A local book returned at a library it does not float to arrives back at its owner."""
    before = item.status
    item.status = Item.Status.AVAILABLE
    item.current_library = library
    item.save(update_fields=["status", "current_library", "updated_at"])
    record_transition(
        ItemEvent, item=item, actor=actor, from_state=before, to_state=item.status, note="home"
    )
    return CheckinResult(
        item=item,
        loan=last,
        transferred=False,
        already_returned=True,
        message=_("《%(title)s》已回到本馆，请上架。") % {"title": item.title.title},
    )


def transfer_payload(item: Item, *, previous_owner: Library, at: dt.datetime) -> dict:
    """What the library's system hears of a book that joined it (no reader data)."""
    title = item.title
    return {
        "barcode": item.barcode,
        "isbn": title.isbn13,
        "title": title.title,
        "list_price_fen": item.list_price_fen,
        "item_type": item.item_type,
        "program": item.program,
        "from_library_code": previous_owner.code,
        "transferred_at": at.isoformat(),
        "acquired_on": item.acquired_on.isoformat(),
    }


def check_out(*, actor: Actor, library: Library, reader: Reader, barcode: str) -> Loan:
    """Lend one of ``library``'s books (floated books included) to ``reader`` under the local
    program, due after the loan days of the applicable rule. Refused (nothing changed) when the
    reader is blocked or at the quota, or the book cannot be lent here. Idempotent for the same
    reader and book: the open loan is returned."""
    from xinyue.cards.selectors import reader_card_at

    _require_desk(actor, library)
    barcode = clean_barcode(barcode)
    with transaction.atomic():
        item = _item(barcode, lock=True)
        current = (
            Loan.objects.filter(item=item, status__in=[Loan.Status.ON_LOAN, Loan.Status.LOST])
            .select_related("item__title", "library")
            .first()
        )
        if current is not None:
            if (
                current.reader_id == reader.pk
                and current.program == Program.LOCAL
                and current.library_id == library.pk
                and current.status == Loan.Status.ON_LOAN
            ):
                return current
            raise NotLendableHere(_("这册书已借出，请先办理归还"), reason="on_loan")
        if item.owning_library_id != library.pk:
            raise NotLendableHere(
                _("这册书属于%(owner)s，不能在本馆借出") % {"owner": item.owning_library.name},
                reason="other_library",
            )
        if item.status != Item.Status.AVAILABLE:
            raise NotLendableHere(
                _("这册书当前状态为“%(status)s”，不能借出") % {"status": item.get_status_display()},
                reason="status",
                status=item.status,
            )
        # One check-out per reader at a time: the quota cannot be overrun by two desks at once.
        Reader.objects.select_for_update().filter(pk=reader.pk).first()
        card = reader_card_at(reader=reader, library=library)
        blocks = selectors.reader_blocks(reader)
        if card is None:
            blocks.insert(
                0, selectors.Block("no_card", _("读者在本馆没有有效读者证，请先办证或绑定读者证"))
            )
        elif card.status != card.Status.ACTIVE:
            blocks.insert(
                0, selectors.Block("card_suspended", _("读者证已暂停使用，请到服务台处理"))
            )
        if blocks:
            raise ReaderBlocked(blocks[0].message, blocks=[block.as_dict() for block in blocks])
        choice = selectors.applicable_rule(
            library_id=library.pk,
            reader_category=card.kind if card else "",
            item_type=item.item_type,
            program=Program.LOCAL,
        )
        rule = choice.rule
        if rule.loan_days == 0:
            raise NotLendableHere(_("按本馆流通规则，此类图书不外借"), reason="rule")
        held = selectors.open_loan_count(reader=reader, program=Program.LOCAL, library=library)
        if held >= rule.max_open_loans:
            raise QuotaReached(
                _("在本馆最多同时借 %(quota)s 册，已借 %(held)s 册")
                % {"quota": rule.max_open_loans, "held": held},
                quota=rule.max_open_loans,
                open_loans=held,
            )
        now = clock.now()
        loan = Loan.objects.create(
            program=Program.LOCAL,
            reader=reader,
            item=item,
            library=library,
            status=Loan.Status.ON_LOAN,
            started_at=now,
            due_on=clock.today() + dt.timedelta(days=rule.loan_days),
        )
        record_transition(
            LoanEvent,
            loan=loan,
            actor=actor,
            to_state=Loan.Status.ON_LOAN,
            note=library.code,
            audit=Audit(
                "loan.checked_out",
                library_code=library.code,
                detail={"barcode": item.barcode, "due_on": loan.due_on.isoformat()},
            ),
        )
        before = item.status
        item.status = Item.Status.ON_LOAN
        item.current_library = library
        item.save(update_fields=["status", "current_library", "updated_at"])
        record_transition(
            ItemEvent, item=item, actor=actor, from_state=before, to_state=item.status
        )
    return loan
