"""Changing member libraries: loading the tree, editing a library, webhook subscriptions and events."""

from __future__ import annotations

import csv
import io
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit, outbound, webhooks
from xinyue.core.actors import Actor, Role
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_library, require_operator
from xinyue.core.webhooks import (  # noqa: F401  (the names other apps import from here)
    DELIVERY_FAILED,
    SIGNATURE_HEADER,
    sign_webhook,
    verify_webhook_signature,
    webhook_backoff,
)
from xinyue.libraries import divisions
from xinyue.libraries.errors import LibraryFileInvalid
from xinyue.libraries.models import Library, WebhookDelivery, WebhookSubscription
from xinyue.libraries.settings_schema import OPERATOR_ONLY, clean_settings, library_setting

log = logging.getLogger("xinyue.libraries")

LIBRARY_FILE_COLUMNS = (
    "code",
    "name",
    "level",
    "parent_code",
    "address",
    "phone",
    "opening_hours",
    "is_operator",
)
BUNDLED_FILE = divisions.BUNDLED_FILE


@dataclass(frozen=True)
class LoadResult:
    created: int
    updated: int
    unchanged: int


def _parse_library_rows(rows: Iterable[dict[str, str]]) -> list[dict[str, Any]]:
    parsed: list[dict[str, Any]] = []
    seen: set[str] = set()
    errors: dict[str, str] = {}
    for number, row in enumerate(rows, start=2):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        level = (row.get("level") or "").strip()
        where = f"line {number}"
        if not (code.isdigit() and len(code) == 6):
            errors[f"{where}.code"] = _("“%(code)s”不是 6 位行政区划代码") % {"code": code}
            continue
        if code in seen:
            errors[f"{where}.code"] = _("“%(code)s”重复") % {"code": code}
            continue
        if not name:
            errors[f"{where}.name"] = _("馆名为空")
            continue
        if level not in Library.Level.values:
            errors[f"{where}.level"] = _("“%(level)s”应为 province、city 或 district") % {
                "level": level
            }
            continue
        seen.add(code)
        parsed.append(
            {
                "code": code,
                "name": name,
                "level": level,
                "parent_code": (row.get("parent_code") or "").strip(),
                "address": (row.get("address") or "").strip(),
                "phone": (row.get("phone") or "").strip(),
                "opening_hours": (row.get("opening_hours") or "").strip(),
                "is_operator": (row.get("is_operator") or "0").strip() in {"1", "true", "yes"},
            }
        )
    for item in parsed:
        parent = item["parent_code"]
        if item["level"] != Library.Level.PROVINCE and not parent:
            errors[f"{item['code']}.parent_code"] = _("市级、区县级馆必须有上级馆")
        elif parent and parent not in seen and not Library.objects.filter(code=parent).exists():
            errors[f"{item['code']}.parent_code"] = _("上级馆 %(parent)s 不存在") % {
                "parent": parent
            }
    if errors:
        raise LibraryFileInvalid(_("成员馆文件有误"), fields=errors)
    return parsed


@transaction.atomic
def load_libraries(*, actor: Actor, rows: Iterable[dict[str, str]]) -> LoadResult:
    """Create or update libraries from rows of the library file; all or nothing.

    Rows carry ``code,name,level,parent_code,address,phone,opening_hours,is_operator``. Existing
    libraries keep their own settings and active flag; their names, addresses and parents follow
    the file; an empty address, phone or opening hours in the file keeps what the library entered.
    """
    require_operator(actor)
    parsed = _parse_library_rows(rows)
    created = updated = unchanged = 0
    level_rank = {Library.Level.PROVINCE: 0, Library.Level.CITY: 1, Library.Level.DISTRICT: 2}
    by_code = {lib.code: lib for lib in Library.objects.all()}
    for item in sorted(parsed, key=lambda i: (level_rank[i["level"]], i["code"])):
        parent = by_code.get(item["parent_code"]) if item["parent_code"] else None
        values = {
            "name": item["name"],
            "level": item["level"],
            "parent": parent,
            "address": item["address"],
            "phone": item["phone"],
            "opening_hours": item["opening_hours"],
            "is_operator": item["is_operator"],
        }
        library = by_code.get(item["code"])
        if library is not None:
            # The bundled file leaves unknown contacts empty: never erase what a library entered.
            for field in ("address", "phone", "opening_hours"):
                if not values[field]:
                    values[field] = getattr(library, field)
        if library is None:
            library = Library.objects.create(code=item["code"], **values)
            by_code[library.code] = library
            created += 1
            continue
        changed = [f for f, v in values.items() if getattr(library, f) != v]
        if changed:
            for f in changed:
                setattr(library, f, values[f])
            library.save(update_fields=[*changed, "updated_at"])
            updated += 1
        else:
            unchanged += 1
    audit.record(
        actor=actor,
        action="libraries.loaded",
        created=created,
        updated=updated,
        unchanged=unchanged,
    )
    return LoadResult(created=created, updated=updated, unchanged=unchanged)


def load_library_file(
    *, actor: Actor, path: Path | None = None, text: str | None = None
) -> LoadResult:
    """``load_libraries`` over a CSV file (UTF-8, with or without BOM) or its text."""
    if text is None:
        text = (path or BUNDLED_FILE).read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [
        c for c in ("code", "name", "level", "parent_code") if c not in (reader.fieldnames or [])
    ]
    if missing:
        raise LibraryFileInvalid(
            _("成员馆文件缺少列"),
            fields={
                "header": _("缺少列 %(missing)s；应为 %(columns)s")
                % {"missing": ", ".join(missing), "columns": ",".join(LIBRARY_FILE_COLUMNS)}
            },
        )
    return load_libraries(actor=actor, rows=list(reader))


@transaction.atomic
def update_library(
    *,
    actor: Actor,
    library: Library,
    name: str | None = None,
    address: str | None = None,
    phone: str | None = None,
    opening_hours: str | None = None,
    is_active: bool | None = None,
    settings_values: dict[str, Any] | None = None,
) -> Library:
    """Edit a library. Name and active flag: the operator; contact and settings: also its admin."""
    require_library(actor, library.pk, role=Role.ADMIN)
    changes: dict[str, Any] = {}
    if name is not None or is_active is not None:
        require_operator(actor)
    if name is not None:
        if not name.strip():
            raise InvalidInput(fields={"name": _("馆名不能为空")})
        changes["name"] = name.strip()
    if address is not None:
        changes["address"] = address.strip()[:200]
    if phone is not None:
        changes["phone"] = phone.strip()[:40]
    if opening_hours is not None:
        changes["opening_hours"] = " ".join(opening_hours.split())[:200]
    if is_active is not None:
        if library.is_operator and not is_active:
            raise InvalidInput(fields={"is_active": _("运营方馆不能停用")})
        changes["is_active"] = is_active
    allowed_before = library_setting(library, "outbound_allow_networks")
    if settings_values is not None:
        if OPERATOR_ONLY & set(settings_values):
            require_operator(actor)
        changes["settings"] = {
            **library.settings,
            **clean_settings(settings_values, allowed_networks=allowed_before),
        }
    changed = {k: v for k, v in changes.items() if getattr(library, k) != v}
    for field, value in changed.items():
        setattr(library, field, value)
    if changed:
        library.save(update_fields=[*changed, "updated_at"])
        audit.record(
            actor=actor,
            action="library.updated",
            obj=library,
            library_code=library.code,
            fields=sorted(changed),
        )
        allowed_after = library_setting(library, "outbound_allow_networks")
        if allowed_after != allowed_before:
            audit.record(
                actor=actor,
                action="library.outbound_allowed",
                obj=library,
                library_code=library.code,
                before=allowed_before,
                after=allowed_after,
            )
    return library


# --- outbound webhooks (the machinery is core/webhooks.py; here: library subscriptions) -------


@transaction.atomic
def subscribe_webhook(
    *, actor: Actor, library: Library, url: str, event_types: list[str] | None = None
) -> WebhookSubscription:
    """Register a library system's endpoint; the signing secret is generated here and shown once."""
    require_library(actor, library.pk, role=Role.ADMIN)
    if not url.startswith(("http://", "https://")):
        raise InvalidInput(fields={"url": _("应以 http:// 或 https:// 开头")})
    outbound.check_url(
        url, field="url", allowed_networks=library_setting(library, "outbound_allow_networks")
    )
    subscription = WebhookSubscription.objects.create(
        library=library, url=url, secret=secrets.token_urlsafe(32), event_types=event_types or []
    )
    audit.record(
        actor=actor,
        action="webhook.subscribed",
        obj=subscription,
        library_code=library.code,
        url=url,
    )
    return subscription


def publish_library_event(
    *, library: Library, event_type: str, data: dict[str, Any]
) -> list[WebhookDelivery]:
    """Queue ``event_type`` for every subscription of ``library``; delivered after commit, with retries.

    Call inside the service transaction that made the change: if it rolls back, nothing is sent.
    """
    from xinyue.libraries.tasks import deliver_webhook

    return webhooks.queue_deliveries(
        subscriptions=library.webhook_subscriptions.filter(is_active=True),
        delivery_model=WebhookDelivery,
        event_type=event_type,
        envelope={"library_code": library.code},
        data=data,
        enqueue=lambda pk: deliver_webhook.enqueue(delivery_id=pk),
    )


def attempt_webhook_delivery(*, delivery_id: int) -> WebhookDelivery | None:
    """Send one delivery once (``core.webhooks.attempt_delivery``) within the networks the
    operator allowed the library. Returns it when a retry should be scheduled, else None."""
    return webhooks.attempt_delivery(
        delivery_model=WebhookDelivery,
        delivery_id=delivery_id,
        allowed_networks=lambda s: library_setting(s.library, "outbound_allow_networks"),
        related="subscription__library",
    )
