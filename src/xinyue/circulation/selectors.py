"""Reads of circulation: items by barcode, a reader's loans and blocks, and which circulation
rule applies (with the candidates it beat, for the console page that explains it)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils.translation import gettext as _

from xinyue.circulation.models import (
    CirculationRule,
    CreditDrift,
    CreditRecord,
    Item,
    ItemTransfer,
    Loan,
    overdue_q,
)
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.permissions import Action, library_scope, require, require_reader


def loans_of_reader(*, reader_id: int, open_only: bool = False) -> QuerySet[Loan]:
    queryset = Loan.objects.filter(reader_id=reader_id).select_related(
        "item__title", "library", "order_line__order"
    )
    if open_only:
        queryset = queryset.filter(status=Loan.Status.ON_LOAN)
    return queryset


def loans_per_title_and_day(*, since: dt.datetime) -> QuerySet:
    """(title id, local day, loans started) since ``since``: for the titles' popularity."""
    return (
        Loan.objects.filter(started_at__gte=since)
        .annotate(day=TruncDate("started_at"))
        .values_list("item__title_id", "day")
        .annotate(n=Count("id"))
        .order_by()
    )


def titles_on_loan(*, reader_ids: Sequence[int], title_ids: Sequence[int]) -> set[tuple[int, int]]:
    """(reader id, title id) for each of ``title_ids`` one of ``reader_ids`` has on an open loan:
    the duplicate check of a whole batch of orders in one statement (SQL: read for every batch)."""
    readers, titles = sorted(set(reader_ids)), sorted(set(title_ids))
    if not readers or not titles:
        return set()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT l.reader_id, i.title_id FROM circulation_loan l"
            " JOIN circulation_item i ON i.id = l.item_id WHERE l.status = %s"
            f" AND l.reader_id IN ({', '.join(['%s'] * len(readers))})"
            f" AND i.title_id IN ({', '.join(['%s'] * len(titles))})",
            [Loan.Status.ON_LOAN, *readers, *titles],
        )
        return {(reader, title) for reader, title in cursor.fetchall()}


def open_platform_loans(*, reader_id: int) -> int:
    return Loan.objects.filter(
        reader_id=reader_id, program="platform", status=Loan.Status.ON_LOAN
    ).count()


# --- the desk ---------------------------------------------------------------------------------


def item_by_barcode(barcode: str) -> Item | None:
    """The item with this barcode (blanks around it ignored), or None."""
    barcode = (barcode or "").strip()
    if not barcode:
        return None
    return (
        Item.objects.select_related("title", "owning_library", "current_library")
        .filter(barcode=barcode)
        .first()
    )


def open_loans(reader) -> QuerySet[Loan]:
    """The reader's loans not yet returned (on loan), every program, oldest due first."""
    return (
        Loan.objects.filter(reader=reader, status=Loan.Status.ON_LOAN)
        .select_related("item__title", "library")
        .order_by("due_on", "id")
    )


def open_loan_count(*, reader, program: str, library=None) -> int:
    """Open loans counted against a quota: per program (a platform loan never counts against a
    local quota), and for local loans per lending library."""
    queryset = Loan.objects.filter(reader=reader, status=Loan.Status.ON_LOAN, program=program)
    if library is not None:
        queryset = queryset.filter(library=library)
    return queryset.count()


@dataclass(frozen=True)
class Block:
    """Why a reader may not borrow or renew now (``code``), and what to tell them (``message``:
    what it is and what clears it). Returns are never blocked."""

    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


def reader_blocks(reader, *, ignoring_loan: Loan | None = None) -> list[Block]:
    """Everything that stops ``reader`` borrowing or renewing: lost books not settled, overdue
    books, compensation whose deduction failed at the provider, compensation the provider could
    not charge above the credit order's deposit (owed at a desk).

    ``ignoring_loan``: a renewal of an overdue loan within its grace days is not blocked by that
    same loan being overdue."""
    blocks: list[Block] = []
    loans = Loan.objects.filter(reader=reader)
    if ignoring_loan is not None:
        loans = loans.exclude(pk=ignoring_loan.pk)
    lost = loans.filter(status=Loan.Status.LOST)
    unpaid = sum(lost.values_list("compensation_fen", flat=True))
    lost_count = lost.count()
    if lost_count:
        blocks.append(
            Block(
                "lost_items",
                _(
                    "有 %(n)s 册图书登记遗失尚未赔付（共 %(yuan)s 元），"
                    "归还找回的图书、等待信用扣款完成或到馆缴纳赔偿后可继续借阅"
                )
                % {"n": lost_count, "yuan": f"{unpaid / 100:.2f}"},
            )
        )
    overdue = loans.filter(overdue_q(clock.today())).count()
    if overdue:
        blocks.append(
            Block(
                "overdue",
                _("有 %(n)s 册图书已逾期，归还后可继续借阅") % {"n": overdue},
            )
        )
    failed = CreditRecord.objects.filter(
        reader=reader,
        kind=CreditRecord.Kind.CHARGE,
        state=CreditRecord.State.FAILED,
        loan__status=Loan.Status.LOST,
    ).count()
    if failed:
        blocks.append(
            Block(
                "unpaid_compensation",
                _("有 %(n)s 笔遗失赔偿信用扣款未成功，请到馆缴纳赔偿后继续借阅") % {"n": failed},
            )
        )
    above_cap = loans.filter(status=Loan.Status.SETTLED, compensation_unpaid_fen__gt=0)
    unpaid_rest = sum(above_cap.values_list("compensation_unpaid_fen", flat=True))
    if unpaid_rest:
        blocks.append(
            Block(
                "compensation_unpaid",
                _(
                    "遗失赔偿超出信用押金上限，信用服务方扣款后仍欠 %(yuan)s 元，"
                    "到任一成员馆服务台缴纳后可继续借阅"
                )
                % {"yuan": f"{unpaid_rest / 100:.2f}"},
            )
        )
    return blocks


def compensation_owed_fen(reader) -> int:
    """What ``reader`` can pay at a desk now, in fen: compensation left unpaid above a credit
    order's deposit, and lost books' compensation whose deduction failed (a kiosk's fee amount)."""
    unpaid = Loan.objects.filter(
        reader=reader, status=Loan.Status.SETTLED, compensation_unpaid_fen__gt=0
    ).values_list("compensation_unpaid_fen", flat=True)
    failed = Loan.objects.filter(
        reader=reader,
        status=Loan.Status.LOST,
        credit_records__kind=CreditRecord.Kind.CHARGE,
        credit_records__state=CreditRecord.State.FAILED,
    ).values_list("compensation_fen", flat=True)
    return sum(unpaid) + sum(failed)


# A carrier that has had a book this many days without it arriving is late (shown to staff).
CARRIER_LATE_DAYS = 7


@dataclass(frozen=True)
class BookedReturn:
    """A courier or locker return booked to a library, as its staff see it."""

    loan: Loan
    stage: str  # "booked" (waiting for the carrier) or "in_transit" (handed off)
    late: bool  # booked and past due without a hand-off, or with the carrier too long


def booked_returns(*, library_id: int) -> list[BookedReturn]:
    """The open loans whose booked return comes to ``library_id``: waiting for the hand-off
    first, then in transit; each says whether it is late (the reader past the due date without
    handing the book over, or the carrier past ``CARRIER_LATE_DAYS``)."""
    today = clock.today()
    loans = (
        Loan.objects.filter(status=Loan.Status.ON_LOAN, return_library_id=library_id)
        .exclude(return_method="")
        .select_related("item__title", "reader")
        .order_by("handed_over_at", "due_on", "id")
    )
    rows = []
    for loan in loans[:500]:
        if loan.handed_over_at is None:
            rows.append(BookedReturn(loan, "booked", loan.due_on < today))
        else:
            days = (today - clock.local(loan.handed_over_at).date()).days
            rows.append(BookedReturn(loan, "in_transit", days > CARRIER_LATE_DAYS))
    rows.sort(key=lambda row: row.stage != "booked")
    return rows


def transferred_items(*, library, since: dt.datetime) -> QuerySet[ItemTransfer]:
    """Items that became ``library``'s at a return since ``since`` (what its system pulls)."""
    return (
        ItemTransfer.objects.filter(to_library=library, at__gte=since)
        .select_related("item__title", "item__supplier", "from_library")
        .order_by("at", "id")
    )


# --- circulation rules ------------------------------------------------------------------------

# Used when no row matches at all (the province's defaults row was deleted or never made).
BUILT_IN = CirculationRule(
    library=None,
    reader_category="",
    item_type="",
    program="",
    loan_days=30,
    renewals=1,
    renewal_grace_days=3,
    max_open_loans=10,
    compensation_factor_permille=1000,
    compensation_fee_fen=0,
)


@dataclass(frozen=True)
class RuleChoice:
    """The rule that applies and why: the matching rows, most specific first (the winner is the
    first), and the key that was asked for."""

    rule: CirculationRule
    candidates: list[CirculationRule]
    library_id: int | None
    reader_category: str
    item_type: str
    program: str

    @property
    def built_in(self) -> bool:
        return self.rule.pk is None


def specificity(rule: CirculationRule) -> tuple[int, int, int, int]:
    """Library outranks program, program outranks reader category, category outranks type."""
    return (
        int(rule.library_id is not None),
        int(bool(rule.program)),
        int(bool(rule.reader_category)),
        int(bool(rule.item_type)),
    )


def applicable_rule(
    *, library_id: int | None, reader_category: str, item_type: str, program: str
) -> RuleChoice:
    """The most specific rule matching the key (blank = any); every candidate for the page."""
    rows = list(
        CirculationRule.objects.filter(
            Q(library_id=library_id) | Q(library__isnull=True),
            reader_category__in=["", reader_category],
            item_type__in=["", item_type],
            program__in=["", program],
        ).select_related("library")
    )
    rows.sort(key=lambda rule: (specificity(rule), -(rule.pk or 0)), reverse=True)
    return RuleChoice(
        rule=rows[0] if rows else BUILT_IN,
        candidates=rows,
        library_id=library_id,
        reader_category=reader_category,
        item_type=item_type,
        program=program,
    )


def reader_category(*, reader, library) -> str:
    """The reader's category at ``library``: the kind of their card there (credit, deposit,
    existing), else the kind of their oldest open card, else blank."""
    from xinyue.cards.models import Card

    cards = list(
        Card.objects.filter(reader=reader)
        .exclude(status=Card.Status.CANCELLED)
        .order_by("issued_at", "id")
        .values_list("library_id", "kind")
    )
    for library_id, kind in cards:
        if library is not None and library_id == library.pk:
            return kind
    return cards[0][1] if cards else ""


def rule_for_loan(loan: Loan) -> RuleChoice:
    return applicable_rule(
        library_id=loan.library_id,
        reader_category=reader_category(reader=loan.reader, library=loan.library),
        item_type=loan.item.item_type,
        program=loan.program,
    )


def rules_visible(*, library=None) -> QuerySet[CirculationRule]:
    """The province's rows and, with ``library``, that library's rows."""
    queryset = CirculationRule.objects.select_related("library")
    if library is None:
        return queryset.filter(library__isnull=True)
    return queryset.filter(Q(library__isnull=True) | Q(library=library))


# --- the credit record, disputes, drift ---------------------------------------------------------


@dataclass(frozen=True)
class CompensationBill:
    """One lost book's compensation as the reader sees it on 我的赔偿."""

    loan: Loan
    state: str  # waiting | due | failed | charged | unpaid | paid_at_desk | no_credit
    can_pay: bool  # the reader may ask the provider for the deduction now


def compensation_bills(*, actor: Actor, reader) -> list[CompensationBill]:
    """The reader's lost books (newest first) and where each compensation stands."""
    require_reader(actor, reader.pk, Action.ORDER_BOOKS)
    loans = (
        Loan.objects.filter(reader=reader, status__in=[Loan.Status.LOST, Loan.Status.SETTLED])
        .select_related("item__title")
        .order_by("-lost_at", "-id")[:200]
    )
    charges = {
        row.loan_id: row
        for row in CreditRecord.objects.filter(
            loan__in=[loan.pk for loan in loans], kind=CreditRecord.Kind.CHARGE
        )
    }
    bills = []
    for loan in loans:
        row = charges.get(loan.pk)
        if loan.status == Loan.Status.SETTLED and loan.compensation_unpaid_fen:
            state = "unpaid"  # charged up to the deposit; the rest is owed at a desk
        elif loan.status == Loan.Status.SETTLED:
            state = "charged" if loan.settled_by == "provider" else "paid_at_desk"
        elif row is None or row.state == CreditRecord.State.CANCELLED:
            state = "no_credit"
        elif row.last_error.startswith("waiting"):
            state = "waiting"
        elif row.state == CreditRecord.State.FAILED or row.attempts:
            state = "failed"
        else:
            state = "due"
        bills.append(CompensationBill(loan, state, state in ("due", "failed")))
    return bills


@dataclass(frozen=True)
class DeskMoney:
    """One sum a desk can settle with a reader: a lost book's compensation (not yet charged by
    the provider), the rest the deposit cap left unpaid, or a found book's refund."""

    loan: Loan
    kind: str  # compensation | unpaid | refund
    amount_fen: int


# Loans with a sum a desk may settle: lost (its compensation, unless the provider charged it),
# settled with a rest above the deposit, or found with a refund not yet given.
_MONEY_AT_A_DESK = (
    Q(status=Loan.Status.LOST)
    | Q(status=Loan.Status.SETTLED, compensation_unpaid_fen__gt=0)
    | Q(refund_due_fen__gt=0, refunded_at__isnull=True)
)


def desk_money_reader(*, actor: Actor, library, scanned: str):
    """The reader a money desk serves, from what staff scanned: a card of this library, or the
    barcode of a book whose loan has a sum to settle (a reader who lost a book may hold no card
    here, and a found book is brought back without its reader)."""
    from xinyue.cards.selectors import library_card

    require(actor, Action.CIRCULATE, library_id=library.pk)
    scanned = scanned.strip()
    if (card := library_card(actor=actor, library=library, number=scanned)) is not None:
        return card.reader
    loan = (
        Loan.objects.filter(item__barcode=scanned)
        .filter(_MONEY_AT_A_DESK)
        .select_related("reader")
        .order_by("-id")
        .first()
    )
    return loan.reader if loan is not None else None


def desk_money(*, actor: Actor, library_id: int, reader) -> list[DeskMoney]:
    """What ``reader`` and a desk of ``library_id`` can settle now, oldest loan first. Any
    member library's desk may settle any loan, as it may take back any book."""
    require(actor, Action.CIRCULATE, library_id=library_id)
    loans = list(
        Loan.objects.filter(reader=reader)
        .filter(_MONEY_AT_A_DESK)
        .select_related("item__title", "library")
        .order_by("id")
    )
    sent = set(
        CreditRecord.objects.filter(
            loan__in=[loan.pk for loan in loans],
            kind=CreditRecord.Kind.CHARGE,
            state=CreditRecord.State.SENT,
        ).values_list("loan_id", flat=True)
    )
    rows = []
    for loan in loans:
        if loan.refund_due_fen and loan.refunded_at is None:
            rows.append(DeskMoney(loan, "refund", loan.refund_due_fen))
        elif loan.status == Loan.Status.SETTLED:
            rows.append(DeskMoney(loan, "unpaid", loan.compensation_unpaid_fen))
        elif loan.status == Loan.Status.LOST and loan.pk not in sent:
            rows.append(DeskMoney(loan, "compensation", loan.compensation_fen))
    return rows


def credit_records_of_reader(*, actor: Actor, reader) -> list[CreditRecord]:
    """Every row of the credit outbox about ``reader``, newest first."""
    require_reader(actor, reader.pk, Action.DISPUTE_CREDIT_RECORD)
    return list(
        CreditRecord.objects.filter(reader=reader)
        .select_related("loan__item__title")
        .order_by("-created_at", "-id")
    )


def credit_record(record_id: int) -> CreditRecord:
    return CreditRecord.objects.select_related("loan__item__title").get(pk=record_id)


def open_disputes(*, actor: Actor) -> list[CreditRecord]:
    """Open disputes the caller answers: their library's (the operator: every library's)."""
    require(actor, Action.ANSWER_CREDIT_DISPUTE)
    rows = CreditRecord.objects.filter(library_scope(actor), dispute=CreditRecord.Dispute.OPEN)
    return list(
        rows.select_related("loan__item__title", "reader", "library").order_by("disputed_at")
    )


def credit_drift() -> list[CreditDrift]:
    return list(CreditDrift.objects.order_by("-found_on", "-id")[:500])
