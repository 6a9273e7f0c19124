"""Circulation services: items and platform loans from orders, the desk (check-in, check-out),
renewals, circulation rules. Import them from here."""

from xinyue.circulation.services.borrowing import (
    confirm_borrow_session,
    session_by_token,
    session_items,
    session_patron_reader,
    start_borrow_session,
)
from xinyue.circulation.services.credit_records import answer_dispute, dispute_record
from xinyue.circulation.services.delivery import create_platform_items, start_platform_loans
from xinyue.circulation.services.desk import CheckinResult, check_in, check_out
from xinyue.circulation.services.overdue import (
    declare_lost,
    pay_compensation_at_desk,
    pay_compensation_through_provider,
    refund_compensation_at_desk,
    run_daily,
)
from xinyue.circulation.services.renewals import renew_loan
from xinyue.circulation.services.returns import book_return, record_hand_over
from xinyue.circulation.services.rules import delete_rule, save_rule

__all__ = [
    "CheckinResult",
    "answer_dispute",
    "book_return",
    "check_in",
    "check_out",
    "confirm_borrow_session",
    "create_platform_items",
    "declare_lost",
    "delete_rule",
    "dispute_record",
    "pay_compensation_at_desk",
    "pay_compensation_through_provider",
    "record_hand_over",
    "refund_compensation_at_desk",
    "renew_loan",
    "run_daily",
    "save_rule",
    "session_by_token",
    "session_items",
    "session_patron_reader",
    "start_borrow_session",
    "start_platform_loans",
]
