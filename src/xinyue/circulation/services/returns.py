"""Return by courier or locker: the reader books it, the carrier (or the locker) records the
hand-off, the receiving library checks the book in on arrival (``check_in``, unchanged).

The loan clock stops at the hand-off (``Loan.handed_over_at``; overdue is derived by
``Loan.is_overdue`` / ``models.overdue_q``), so a carrier's delay never makes the reader overdue.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from xinyue.circulation.errors import LoanNotFound, ReturnNotBooked
from xinyue.circulation.models import Loan, LoanEvent
from xinyue.core import clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require
from xinyue.libraries.settings_schema import library_setting

RETURN_METHODS = {"courier": gettext_lazy("快递上门取件"), "locker": gettext_lazy("智能书柜")}


def return_methods(loan: Loan) -> list[str]:
    """The ways the lending library's policy (setting ``return_methods``) lets this loan come
    back besides a desk or kiosk; the operator's setting for platform loans."""
    allowed = str(library_setting(loan.library, "return_methods") or "").split(",")
    return [method for method in RETURN_METHODS if method in allowed]


def receiving_library_id(loan: Loan) -> int:
    """Where a booked return is brought: the first library where the reader holds a card (their
    home library), else the lending library."""
    from xinyue.cards.selectors import card_libraries

    libraries = sorted(card_libraries(loan.reader_id))
    return libraries[0] if libraries else loan.library_id


def book_return(*, actor: Actor, loan: Loan, method: str) -> Loan:
    """The reader books a courier pick-up or a locker drop for their open loan; the book goes
    to the reader's home library (``receiving_library_id``), whose staff see it on their
    returns page. Booking again with the same method changes nothing; the loan stays due as
    before until the hand-off."""
    if method not in RETURN_METHODS:
        raise InvalidInput(fields={"method": _("请选择快递上门取件或智能书柜")})
    with transaction.atomic():
        locked = Loan.objects.select_for_update().select_related("library").get(pk=loan.pk)
        if actor.reader_id != locked.reader_id or locked.status != Loan.Status.ON_LOAN:
            raise LoanNotFound()
        if method not in return_methods(locked):
            raise InvalidInput(fields={"method": _("借出馆不提供这种归还方式")})
        if locked.return_method == method:
            return locked
        if locked.handed_over_at is not None:
            raise InvalidInput(fields={"method": _("图书已交寄，不能更改归还方式")})
        locked.return_method = method
        locked.return_booked_at = clock.now()
        locked.return_library_id = receiving_library_id(locked)
        locked.save(
            update_fields=["return_method", "return_booked_at", "return_library", "updated_at"]
        )
        record_transition(
            LoanEvent,
            loan=locked,
            actor=actor,
            note=f"return:{method}",
            audit=Audit(
                "loan.return_booked",
                detail={
                    "loan": locked.pk,
                    "method": method,
                    "library": locked.return_library.code if locked.return_library else "",
                },
            ),
        )
    return locked


def record_hand_over(*, actor: Actor, loan: Loan) -> Loan:
    """The carrier took the book (or the reader put it in the locker): the clock stops now.
    Recorded by staff (or a carrier's key) of any library; repeated, it keeps the first time."""
    require(actor, Action.CIRCULATE)
    with transaction.atomic():
        locked = Loan.objects.select_for_update().get(pk=loan.pk)
        if locked.status != Loan.Status.ON_LOAN or not locked.return_method:
            raise ReturnNotBooked()
        if locked.handed_over_at is not None:
            return locked
        locked.handed_over_at = clock.now()
        locked.save(update_fields=["handed_over_at", "updated_at"])
        record_transition(
            LoanEvent,
            loan=locked,
            actor=actor,
            note="handed_over",
            audit=Audit(
                "loan.handed_over",
                detail={"loan": locked.pk, "method": locked.return_method},
            ),
        )
    return locked
