"""The per-library settings stored in ``Library.settings``: their keys, defaults and checks.

Other apps read a library's setting through ``library_setting`` so that a default lives in one place.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from xinyue.core import outbound
from xinyue.core.errors import InvalidInput

LINK_CHECKS = ("staff", "sip2", "rest")
SIP2_ENCODINGS = ("utf-8", "gbk", "gb18030", "cp850")

DEFAULTS: dict[str, Any] = {
    # Card numbers of platform cards issued at this library: prefix + a running number.
    "card_prefix": "",
    # How a reader's existing card is verified when linked: staff approval, SIP2 or REST.
    "link_card_check": "staff",
    "sip2_host": "",
    "sip2_port": 6001,
    # SIP2 link check (cards.services.linking): wire encoding, 93 login account (empty: no
    # login), institution id (AO) and location code (CP) the library's system expects.
    "sip2_encoding": "utf-8",
    "sip2_login_user": "",
    "sip2_login_password": "",
    "sip2_institution_id": "",
    "sip2_location_code": "",
    "rest_verify_url": "",
    # HMAC-SHA256 key for the signed POST to rest_verify_url (same scheme as webhooks).
    "rest_verify_secret": "",
    # Whether this library's own (local) books float to the library they are returned at.
    "local_books_float": False,
    # How readers may return this library's loans besides a desk or kiosk: "courier", "locker",
    # both (comma-separated) or "" (neither).
    "return_methods": "courier,locker",
    # The deposit (fen) of a deposit card issued at this library's desk; None = not known to
    # the platform, shown as "以馆内公告为准" (see the deposit alternative of a refusal).
    "deposit_fen": None,
    # Networks inside (CIDR, e.g. "10.20.0.0/16") that this library's webhook and card-check
    # URLs may reach: the library's own network. Only the operator sets it (audited).
    "outbound_allow_networks": [],
}
MAX_DEPOSIT_FEN = 100_000  # 1,000 yuan: above any card deposit, catches a typo in fen

# Settings that only the operator may change.
OPERATOR_ONLY = frozenset({"outbound_allow_networks"})
MAX_ALLOWED_NETWORKS = 10


def library_setting(library: Any, key: str) -> Any:
    if key not in DEFAULTS:
        raise KeyError(key)
    value = (library.settings or {}).get(key, DEFAULTS[key])
    if key == "card_prefix" and not value:
        return f"{library.code}"
    return value


def clean_settings(
    values: dict[str, Any], *, allowed_networks: list[str] | None = None
) -> dict[str, Any]:
    """Validate settings submitted by an operator; unknown keys and bad values name the field.
    ``allowed_networks`` is the library's current ``outbound_allow_networks`` (a new value in
    ``values`` wins): URLs must not reach inside any other network."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    if isinstance(values.get("outbound_allow_networks"), list):
        allowed_networks = values["outbound_allow_networks"]
    for key, value in values.items():
        if key not in DEFAULTS:
            errors[key] = _("未知的设置项")
            continue
        default = DEFAULTS[key]
        if isinstance(default, list):
            problem = _allowed_networks_problem(value)
            if problem:
                errors[key] = problem
            else:
                cleaned[key] = [str(v).strip() for v in value]
            continue
        if key == "deposit_fen":
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int)
                or not 0 <= value <= MAX_DEPOSIT_FEN
            ):
                errors[key] = _("押金应为 0 至 1000 元，不知道时留空")
                continue
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                errors[key] = _("应为是/否")
                continue
        elif isinstance(default, int):
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
                errors[key] = _("应为 1–65535 的整数")
                continue
        elif not isinstance(value, str) or len(value) > 300:
            errors[key] = _("应为不超过 300 字的文本")
            continue
        if key == "link_card_check" and value not in LINK_CHECKS:
            errors[key] = _("只能是 staff、sip2 或 rest")
            continue
        if key == "sip2_encoding" and value not in SIP2_ENCODINGS:
            errors[key] = _("只能是 %(values)s") % {
                "values": pgettext("enumeration separator", "、").join(SIP2_ENCODINGS)
            }
            continue
        if key == "return_methods" and not set(filter(None, value.split(","))) <= {
            "courier",
            "locker",
        }:
            errors[key] = _("只能是 courier、locker，用逗号分隔，或留空")
            continue
        if key == "card_prefix" and value and not (value.isalnum() and len(value) <= 10):
            errors[key] = _("只能是不超过 10 位的字母或数字")
            continue
        if key == "rest_verify_url" and value:
            try:
                outbound.check_url(value, field=key, allowed_networks=allowed_networks or [])
            except InvalidInput as exc:
                errors.update(exc.detail["fields"])
                continue
        cleaned[key] = value
    if errors:
        raise InvalidInput(fields=errors)
    return cleaned


def _allowed_networks_problem(value: Any) -> str:
    if not isinstance(value, list) or len(value) > MAX_ALLOWED_NETWORKS:
        return _("应为不超过 %(n)d 个网段（如 10.20.0.0/16）的列表") % {"n": MAX_ALLOWED_NETWORKS}
    try:
        outbound.policy(value)
    except ValueError as exc:
        return _("不是可以放行的网段：%(value)s") % {"value": str(exc)[:60]}
    return ""
