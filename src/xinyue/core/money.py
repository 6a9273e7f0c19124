"""Money is integer fen (分) everywhere; yuan strings exist only at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext as _

MAX_FEN = 10**12  # ten billion yuan: far beyond any budget, small enough to catch typos


def yuan_to_fen(value: str | int | Decimal) -> int:
    """Parse ``"45.00"``, ``"¥45"``, ``"45.5"`` or ``45`` yuan into fen; refuse anything else.

    Raises ``ValueError`` with a reader-facing reason (negative, more than 2 decimals, not a number).
    """
    if isinstance(value, bool) or value is None:
        raise ValueError(_("不是金额"))
    text = str(value).strip().replace("¥", "").replace("￥", "").replace(",", "").replace("元", "")
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise ValueError(_("“%(value)s”不是金额") % {"value": value}) from None
    if not amount.is_finite():
        raise ValueError(_("“%(value)s”不是金额") % {"value": value})
    if amount < 0:
        raise ValueError(_("金额不能为负数"))
    if amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("金额最多两位小数"))
    fen = int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))
    if fen > MAX_FEN:
        raise ValueError(_("金额过大"))
    return fen


def fen_to_yuan(fen: int) -> str:
    """``4500`` → ``"45.00"`` (for display and for providers that speak yuan)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def format_fen(fen: int) -> str:
    """``4500`` → ``"¥45.00"``."""
    return f"¥{fen_to_yuan(fen)}"
