"""Circulation rules: the province's defaults (rows without a library) kept by the operator, a
library's own rows kept by its admins. Every value is checked and every change audited; a key
(library, reader category, item type, program) has at most one row, so saving a key again
changes that row."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.circulation.errors import RuleNotFound
from xinyue.circulation.models import CirculationRule, ItemType, Program
from xinyue.core import audit
from xinyue.core.actors import Actor, Role
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_library, require_operator
from xinyue.libraries.models import Library

READER_CATEGORIES = ("credit", "deposit", "existing")  # the kinds of card
LIMITS: dict[str, tuple[int, int]] = {
    "loan_days": (0, 365),  # 0: not lent (e.g. reference books)
    "renewals": (0, 20),
    "renewal_grace_days": (0, 60),
    "max_open_loans": (0, 500),
    "compensation_factor_permille": (0, 10_000),  # 1000 = the list price once
    "compensation_fee_fen": (0, 100_000),
    "remind_days_before": (0, 30),
    "lost_after_days": (1, 365),
}
# Added with the daily overdue job: a caller that leaves them out gets the model's defaults.
OPTIONAL = {"remind_days_before": 3, "lost_after_days": 60}


def _require_keeper(actor: Actor, library: Library | None) -> None:
    if library is None:
        require_operator(actor)
    else:
        require_library(actor, library.pk, role=Role.ADMIN)


def clean_rule(values: dict[str, Any]) -> dict[str, Any]:
    """The key and the values of a rule, checked; bad input names its field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, Any] = {}
    keys = {
        "reader_category": READER_CATEGORIES,
        "item_type": tuple(ItemType.values),
        "program": tuple(Program.values),
    }
    for key, allowed in keys.items():
        value = str(values.get(key) or "").strip()
        if value and value not in allowed:
            errors[key] = _("只能留空（任意）或为：%(values)s") % {"values": "、".join(allowed)}
        cleaned[key] = value
    for key, (low, high) in LIMITS.items():
        number: Any = values.get(key)
        if key in OPTIONAL and number in (None, ""):
            number = OPTIONAL[key]
        if isinstance(number, str) and number.strip().isdigit():
            number = int(number.strip())
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            errors[key] = _("应为 %(low)s 至 %(high)s 的整数") % {"low": low, "high": high}
            continue
        cleaned[key] = number
    if errors:
        raise InvalidInput(fields=errors)
    return cleaned


def save_rule(*, actor: Actor, library: Library | None, values: dict[str, Any]) -> CirculationRule:
    """Create or change the rule of a key: ``library`` None for the province's defaults
    (operator), a library for its own rules (its admins, or the operator)."""
    _require_keeper(actor, library)
    cleaned = clean_rule(values)
    key = {k: cleaned.pop(k) for k in ("reader_category", "item_type", "program")}
    with transaction.atomic():
        rule = CirculationRule.objects.select_for_update().filter(library=library, **key).first()
        before = {k: getattr(rule, k) for k in LIMITS} if rule else {}
        if rule is None:
            rule = CirculationRule.objects.create(library=library, **key, **cleaned)
        else:
            for field, value in cleaned.items():
                setattr(rule, field, value)
            rule.save()
        audit.record(
            actor=actor,
            action="circulation_rule.saved",
            obj=rule,
            library_code=library.code if library else "",
            key=str(rule),
            before=before,
            after=cleaned,
        )
    return rule


def delete_rule(*, actor: Actor, rule: CirculationRule) -> None:
    """Remove a rule row; loans then fall to the next most specific rule."""
    _require_keeper(actor, rule.library)
    with transaction.atomic():
        locked = CirculationRule.objects.select_for_update().filter(pk=rule.pk).first()
        if locked is None:
            raise RuleNotFound()
        audit.record(
            actor=actor,
            action="circulation_rule.deleted",
            obj=locked,
            library_code=locked.library.code if locked.library is not None else "",
            key=str(locked),
            values={k: getattr(locked, k) for k in LIMITS},
        )
        locked.delete()
