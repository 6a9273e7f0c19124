"""Refusals of circulation, each with a stable code (API ``code``, desk pages, SIP2 screens).

A refusal says why in Chinese and, in ``detail``, what the desk or kiosk needs to act on it
(the reason code, the quota, the blocks). Returns are never refused for the reader's state:
only an unknown barcode or an item that is not on loan stops a check-in.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import Conflict, NotFound


class ItemUnknown(NotFound):
    code = "item_unknown"
    default_message = _("条码不存在：本平台没有这册书")


class ItemNotOnLoan(Conflict):
    code = "item_not_on_loan"
    default_message = _("这册书没有借出，无需归还")


class NotLendableHere(Conflict):
    """``detail["reason"]``: ``other_library`` (owned by another library), ``on_loan`` (lent to
    someone else), ``status`` (lost, withdrawn, in transit), ``rule`` (the rule lends it for 0
    days)."""

    code = "not_lendable_here"
    default_message = _("这册书不能在本馆借出")


class QuotaReached(Conflict):
    code = "quota_reached"
    default_message = _("已达到在借册数上限")


class RenewalRefused(Conflict):
    """``detail["reason"]``: ``limit`` (no renewals left), ``overdue`` (beyond the grace
    days), ``lost``, ``not_on_loan``."""

    code = "renewal_refused"
    default_message = _("不能续借")


class ReaderBlocked(Conflict):
    """``detail["blocks"]``: ``[{"code", "message"}]``, each saying why and what clears it."""

    code = "reader_blocked"
    default_message = _("读者暂不能借书")


class LoanNotFound(NotFound):
    code = "loan_not_found"
    default_message = _("找不到该借阅记录")


class RuleNotFound(NotFound):
    code = "rule_not_found"
    default_message = _("找不到该流通规则")


class CardUnknown(NotFound):
    code = "card_unknown"
    default_message = _("本馆没有这个读者证号")


class CompensationNotDue(Conflict):
    """``detail["status"]``: the loan's status (not lost), or ``charged`` when the provider has
    already been asked for the deduction."""

    code = "compensation_not_due"
    default_message = _("这册书没有待赔付的遗失赔偿")


class RefundNotDue(Conflict):
    """``detail["status"]``: ``none`` (nothing to give back) or ``refunded`` (already done)."""

    code = "refund_not_due"
    default_message = _("这册书没有待退还的赔偿款")


class CreditRecordNotFound(NotFound):
    code = "credit_record_not_found"
    default_message = _("找不到该信用记录")


class DisputeState(Conflict):
    """``detail["dispute"]``: the record's dispute state (already disputed, nothing to answer)."""

    code = "dispute_state"
    default_message = _("该信用记录的异议状态不允许此操作")


class BorrowSessionNotFound(NotFound):
    code = "borrow_session_not_found"
    default_message = _("二维码无效：找不到这次借书")


class BorrowSessionExpired(Conflict):
    code = "borrow_session_expired"
    default_message = _("二维码已过期，请让馆员或自助机重新生成")


class BorrowSessionUsed(Conflict):
    """The session was confirmed (or is being confirmed) by another reader, or failed."""

    code = "borrow_session_used"
    default_message = _("二维码已使用过，请让馆员或自助机重新生成")


class BorrowCreditRefused(Conflict):
    """The provider did not open the credit order; ``detail["reason"]`` is its code."""

    code = "borrow_credit_refused"
    default_message = _("信用借阅未获信用服务方同意，未借出")


class ReturnNotBooked(Conflict):
    code = "return_not_booked"
    default_message = _("这笔借阅没有预约快递或书柜归还")
