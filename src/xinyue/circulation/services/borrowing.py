"""QR credit borrowing: the desk or a kiosk names the items and shows a short-lived QR code; the
reader scans it while logged in, sees the library and the items, and confirms. The loans are local
ones (``check_out``, so every rule of the desk applies) under one provider credit order.

The order of work follows the platform orders: the rules are tried first in a transaction that is
rolled back (nothing is written, the due dates are known), then the credit order is opened at the
provider outside any transaction (idempotent by the reference ``borrow:<id>``), then the loans are
made in one transaction. A retry after a crash continues: the session stays claimed by the same
reader, the provider call and the check-outs are idempotent. The reader's confirmation on our page
is their consent for this credit order, so it is opened for their provider identity.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.circulation.errors import (
    BorrowCreditRefused,
    BorrowSessionExpired,
    BorrowSessionNotFound,
    BorrowSessionUsed,
    ItemUnknown,
    NotLendableHere,
)
from xinyue.circulation.models import BorrowSession, BorrowSessionEvent, CreditRecord, Item, Loan
from xinyue.circulation.services import credit_sync
from xinyue.circulation.services.desk import check_out, clean_barcode
from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Actor, ActorKind
from xinyue.core.errors import DomainError, InvalidInput, PermissionDenied
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require
from xinyue.libraries.models import Library
from xinyue.readers.models import Reader

log = logging.getLogger("xinyue.circulation.borrowing")

SESSION_MINUTES = 5  # the QR code on the desk's screen lives this long
MAX_ITEMS = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_borrow_session(
    *, actor: Actor, library: Library, barcodes: list[str]
) -> tuple[BorrowSession, str]:
    """Open a session for ``barcodes`` of ``library``'s books; returns it with its one-time token
    (shown only now, in the QR code). Refused when a book is unknown or cannot be lent here."""
    require(actor, Action.CIRCULATE, library_id=library.pk)
    cleaned: list[str] = []
    for index, raw in enumerate(barcodes or []):
        try:
            value = clean_barcode(raw if isinstance(raw, str) else "")
        except InvalidInput:
            raise InvalidInput(
                fields={f"barcodes[{index}]": _("条码应为4–40位字母、数字或连字符")}
            ) from None
        if value not in cleaned:
            cleaned.append(value)
    if not 1 <= len(cleaned) <= MAX_ITEMS:
        raise InvalidInput(fields={"barcodes": _("请扫描 1–%(n)s 册书") % {"n": MAX_ITEMS}})
    items = {item.barcode: item for item in Item.objects.filter(barcode__in=cleaned)}
    for barcode in cleaned:
        item = items.get(barcode)
        if item is None:
            raise ItemUnknown(barcode=barcode)
        if item.owning_library_id != library.pk:
            raise NotLendableHere(reason="other_library", barcode=barcode)
        if item.status != Item.Status.AVAILABLE:
            raise NotLendableHere(reason="status", status=item.status, barcode=barcode)
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        session = BorrowSession.objects.create(
            token_hash=token_hash(token),
            library=library,
            barcodes=cleaned,
            created_by=actor.label[:80],
            expires_at=clock.now() + dt.timedelta(minutes=SESSION_MINUTES),
        )
        record_transition(
            BorrowSessionEvent,
            session=session,
            actor=actor,
            to_state=session.status,
            audit=Audit(
                "borrow_session.created",
                library_code=library.code,
                detail={"session": session.pk, "barcodes": cleaned},
            ),
        )
    return session, token


def session_by_token(token: str) -> BorrowSession:
    """The session a scanned token names (expired or used ones too: the caller says which)."""
    if not isinstance(token, str) or not 20 <= len(token) <= 64:
        raise BorrowSessionNotFound()
    session = (
        BorrowSession.objects.select_related("library", "reader")
        .filter(token_hash=token_hash(token))
        .first()
    )
    if session is None:
        raise BorrowSessionNotFound()
    return session


def session_items(session: BorrowSession) -> list[Item]:
    items = {
        item.barcode: item
        for item in Item.objects.filter(barcode__in=session.barcodes).select_related("title")
    }
    return [items[barcode] for barcode in session.barcodes if barcode in items]


def _claim(session: BorrowSession, reader: Reader, actor: Actor) -> BorrowSession:
    with transaction.atomic():
        locked = BorrowSession.objects.select_for_update().get(pk=session.pk)
        if locked.status == BorrowSession.Status.OPEN:
            if locked.is_expired:
                raise BorrowSessionExpired()
            locked.status = BorrowSession.Status.CLAIMED
            locked.reader = reader
            locked.save(update_fields=["status", "reader", "updated_at"])
            record_transition(
                BorrowSessionEvent,
                session=locked,
                actor=actor,
                from_state=BorrowSession.Status.OPEN,
                to_state=locked.status,
            )
            return locked
        if locked.reader_id != reader.pk or locked.status == BorrowSession.Status.FAILED:
            raise BorrowSessionUsed()
        return locked  # the same reader again: a retry continues or answers the same


def _try_loans(session: BorrowSession, reader: Reader) -> list[dt.date]:
    """Every check-out of the session, rolled back: refusals surface, nothing is written."""

    class _Rollback(Exception):
        pass

    due: list[dt.date] = []
    try:
        with transaction.atomic():
            for barcode in session.barcodes:
                loan = check_out(
                    actor=SYSTEM, library=session.library, reader=reader, barcode=barcode
                )
                due.append(loan.due_on)
            raise _Rollback
    except _Rollback:
        pass
    return due


def _fail(session: BorrowSession, actor: Actor, reason: str) -> None:
    with transaction.atomic():
        updated = BorrowSession.objects.filter(
            pk=session.pk, status=BorrowSession.Status.CLAIMED
        ).update(status=BorrowSession.Status.FAILED, failure=reason[:200], updated_at=clock.now())
        if updated:
            record_transition(
                BorrowSessionEvent,
                session=session,
                actor=actor,
                from_state=BorrowSession.Status.CLAIMED,
                to_state=BorrowSession.Status.FAILED,
                note=reason[:200],
            )


def confirm_borrow_session(*, actor: Actor, token: str) -> tuple[BorrowSession, list[Loan]]:
    """The logged-in reader confirms the session their phone scanned: the credit order is opened
    at the provider once and the books are lent to them. Refused clearly when the token is
    unknown, expired, or used by someone else; a refusal of the rules (blocks, quota, the book
    gone) fails the session without any provider call."""
    if actor.kind is not ActorKind.READER or actor.reader_id is None:
        raise PermissionDenied(_("请先以读者身份登录"))
    reader = Reader.objects.get(pk=actor.reader_id)
    session = _claim(session_by_token(token), reader, actor)
    if session.status == BorrowSession.Status.CONFIRMED:
        return session, list(session_loans(session))
    try:
        due_dates = _try_loans(session, reader)
    except DomainError as exc:
        _fail(session, actor, exc.message)
        raise
    items = session_items(session)
    credit = _open_credit(session, reader, actor, items, max(due_dates))
    from xinyue.credit.models import CreditOrder

    if credit.state not in (CreditOrder.State.BORROWED, CreditOrder.State.OVERDUE):
        _fail(session, actor, str(BorrowCreditRefused.default_message))
        raise BorrowCreditRefused(reason=credit.state)
    try:
        with transaction.atomic():
            loans = [
                check_out(actor=SYSTEM, library=session.library, reader=reader, barcode=barcode)
                for barcode in session.barcodes
            ]
            Loan.objects.filter(pk__in=[loan.pk for loan in loans]).update(
                credit_reference=session.credit_reference
            )
            for loan in loans:  # the reader's credit record shows each borrow, as for orders
                loan.credit_reference = session.credit_reference
                credit_sync.record(loan=loan, kind=CreditRecord.Kind.BORROW)
            locked = BorrowSession.objects.select_for_update().get(pk=session.pk)
            locked.status = BorrowSession.Status.CONFIRMED
            locked.confirmed_at = clock.now()
            locked.save(update_fields=["status", "confirmed_at", "updated_at"])
            record_transition(
                BorrowSessionEvent,
                session=locked,
                actor=actor,
                from_state=BorrowSession.Status.CLAIMED,
                to_state=locked.status,
                audit=Audit(
                    "borrow_session.confirmed",
                    library_code=session.library.code,
                    detail={
                        "session": session.pk,
                        "barcodes": session.barcodes,
                        "credit_reference": session.credit_reference,
                    },
                ),
            )
    except DomainError as exc:
        # A book went between the trial and now: no loan was made; the credit order is closed.
        from xinyue.credit.services import cancel_credit_order

        _fail(session, actor, exc.message)
        try:
            cancel_credit_order(actor=SYSTEM, order=credit, reason="borrow session failed")
        except DomainError as cancel_error:
            log.warning("borrow %s: cancel failed: %s", session.pk, cancel_error.code)
        raise
    return locked, list(session_loans(locked))


def _open_credit(session, reader, actor, items, latest_due: dt.date):
    from xinyue.credit.models import CreditOrder
    from xinyue.credit.services import open_credit_order, sync_credit_order

    goods = items[0].title.title if items else "图书"
    try:
        credit = open_credit_order(
            actor=actor,
            reader=reader,
            reference=session.credit_reference,
            goods_name=f"{goods}等{len(items)}册" if len(items) > 1 else goods,
            deposit_fen=sum(item.list_price_fen for item in items),
            due_at=credit_sync.due_at(latest_due),
            shop_name=session.library.name,
            confirm_by_reader=False,
        )
    except DomainError as exc:
        _fail(session, actor, exc.message)
        raise BorrowCreditRefused(exc.message, reason=exc.code) from exc
    if credit.state == CreditOrder.State.PENDING_CONFIRM:
        try:
            credit = sync_credit_order(order=credit)
        except DomainError as exc:
            log.warning("borrow %s: credit query failed: %s", session.pk, exc.code)
    return credit


def session_loans(session: BorrowSession):
    return (
        Loan.objects.filter(credit_reference=session.credit_reference, reader=session.reader)
        .select_related("item__title", "library")
        .order_by("id")
    )


def session_patron_reader(*, library: Library, token: str) -> Reader | None:
    """For a kiosk at ``library``: the reader who confirmed the session of ``token``, while it
    has not expired (the kiosk names the patron by the token it showed)."""
    try:
        session = session_by_token(token)
    except BorrowSessionNotFound:
        return None
    if (
        session.library_id != library.pk
        or session.reader_id is None
        or session.status != BorrowSession.Status.CONFIRMED
        or session.is_expired
    ):
        return None
    return session.reader
