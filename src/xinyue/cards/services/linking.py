"""Linking a card a reader already holds at a member library, which activates the platform service.

The library decides how the card is verified (``link_card_check``): its own system asked over
SIP2 (63 Patron Information with the card number and password), its REST endpoint (an HMAC-signed
JSON POST), or its staff approving a pending request in the console. The network check runs
*outside* any database transaction (an SQLite write lock is never held while we wait for a
library's system); the card is created in a transaction afterwards, re-checking every rule.

Every attempt is a ``CardLinkRequest`` row: failures count towards a throttle (per reader and per
card number) so that nobody can guess card passwords through us. Passwords are never stored,
logged or put in an audit row.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinyue.cards.errors import (
    CardAlreadyHeld,
    CardNumberTaken,
    CardStateConflict,
    LinkCheckFailed,
    LinkCheckUnavailable,
    RequestNotPending,
    TooManyLinkAttempts,
)
from xinyue.cards.models import Card, CardEvent, CardLinkRequest
from xinyue.cards.selectors import reader_card_at
from xinyue.cards.services.issuing import (
    card_webhook_data,
    clean_reason,
    create_card_row,
    require_active_reader,
    require_open_library,
    require_self,
)
from xinyue.core import audit, clock, outbound
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.hooks import Hook
from xinyue.core.permissions import require_library
from xinyue.libraries.models import Library
from xinyue.libraries.services import SIGNATURE_HEADER, publish_library_event, sign_webhook
from xinyue.libraries.settings_schema import library_setting
from xinyue.readers.models import Reader

logger = logging.getLogger(__name__)

CARD_NUMBER_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z\-]{0,39}$")
MAX_FAILURES = 5
FAILURE_WINDOW = dt.timedelta(hours=1)


@dataclass(frozen=True)
class LinkOutcome:
    status: str  # "activated" (the card is linked, the service active) | "pending" (staff decide)
    request: CardLinkRequest
    card: Card | None = None


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def clean_card_number(raw: str) -> str:
    number = (raw or "").strip().replace(" ", "")
    if not number:
        raise InvalidInput(fields={"card_number": _("请输入读者证号")})
    if not CARD_NUMBER_RE.match(number):
        raise InvalidInput(
            fields={"card_number": _("读者证号只能包含字母、数字和连字符，最长 40 位")}
        )
    return number


def _check_throttle(reader: Reader, library: Library, number: str) -> None:
    since = clock.now() - FAILURE_WINDOW
    failed = CardLinkRequest.objects.filter(
        status=CardLinkRequest.Status.FAILED, created_at__gte=since
    )
    if (
        failed.filter(reader=reader).count() >= MAX_FAILURES
        or failed.filter(library=library, card_number=number).count() >= MAX_FAILURES
    ):
        raise TooManyLinkAttempts()


def _check_number_free(reader: Reader, library: Library, number: str) -> None:
    other = Card.objects.filter(library=library, number=number).first()
    if other is None:
        return
    if other.reader_id == reader.pk and other.status == Card.Status.CANCELLED:
        raise CardStateConflict(_("该读者证已注销，请到馆咨询"), status=other.status)
    raise CardNumberTaken()


# --- the checks, over the wire ---------------------------------------------------------------


def rest_verify_body(*, library: Library, number: str, password: str) -> bytes:
    payload = {
        "request_id": uuid.uuid4().hex,
        "library_code": library.code,
        "card_number": number,
        "password": password,
        "timestamp": int(time.time()),
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def check_with_rest(*, library: Library, number: str, password: str) -> Verdict:
    """POST the card to the library's endpoint, signed like our webhooks
    (``X-Xinyue-Signature: t=<unix>,v1=<HMAC-SHA256(secret, "<t>.<body>")>``); it answers
    ``{"valid": true|false, "reason"?: str}`` with HTTP 200."""
    url = library_setting(library, "rest_verify_url")
    secret = library_setting(library, "rest_verify_secret")
    if not url or not secret:
        raise LinkCheckUnavailable(_("该馆尚未配置读者证核验接口"), library_code=library.code)
    body = rest_verify_body(library=library, number=number, password=password)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "xinyue-card-link/1",
        SIGNATURE_HEADER: sign_webhook(secret, body, int(time.time())),
    }
    try:
        response = outbound.post(
            url,
            allowed_networks=library_setting(library, "outbound_allow_networks"),
            data=body,
            headers=headers,
            timeout=float(settings.CARD_LINK_TIMEOUT_SECONDS),
        )
        answer = response.json() if response.status_code == 200 else None
    except (requests.RequestException, ValueError, outbound.OutboundRefused) as exc:
        logger.warning("REST link check at %s failed: %s", library.code, type(exc).__name__)
        raise LinkCheckUnavailable(library_code=library.code) from None
    if not isinstance(answer, dict) or not isinstance(answer.get("valid"), bool):
        logger.warning("REST link check at %s: HTTP %s", library.code, response.status_code)
        raise LinkCheckUnavailable(library_code=library.code)
    return Verdict(answer["valid"], str(answer.get("reason") or "")[:100])


# How each method verifies a card: REST here; SIP2 from the sip2 app, which speaks the kiosk
# protocol and registers its check in its AppConfig.ready (cards never imports it).
LinkCheck = Callable[..., Verdict]
# ``check(*, library, number, password) -> Verdict`` per ``link_card_check`` method.
link_checks: Hook[LinkCheck] = Hook("cards.link_checks")
link_checks.register(check_with_rest, key=CardLinkRequest.Method.REST)


# --- the service ---------------------------------------------------------------------------


def link_existing_card(
    *, actor: Actor, reader: Reader, library: Library, card_number: str, password: str = ""
) -> LinkOutcome:
    """Link ``card_number`` of ``library`` to ``reader`` and activate the platform service, after
    the check the library configured (or leave a request for its staff to decide)."""
    require_self(actor, reader)
    require_active_reader(reader)
    require_open_library(library)
    number = clean_card_number(card_number)
    held = reader_card_at(reader=reader, library=library)
    if held is not None:
        if held.number != number:
            raise CardAlreadyHeld(library_code=library.code)
        return _activate_held(actor=actor, card=held)
    _check_number_free(reader, library, number)
    _check_throttle(reader, library, number)
    method = library_setting(library, "link_card_check")
    if method == CardLinkRequest.Method.STAFF:
        return _ask_staff(actor=actor, reader=reader, library=library, number=number)
    if method == CardLinkRequest.Method.SIP2 and not password:
        raise InvalidInput(fields={"password": _("请输入该读者证的密码")})
    check = link_checks.get(method)
    if check is None:
        raise LinkCheckUnavailable(library_code=library.code)
    verdict = check(library=library, number=number, password=password)
    if not verdict.ok:
        _record_failure(actor, reader, library, number, method, verdict.reason)
        raise LinkCheckFailed(
            fields={"card_number": _("读者证号或密码不正确，或该证在成员馆已停用")},
            library_code=library.code,
        )
    return _link_verified(actor=actor, reader=reader, library=library, number=number, method=method)


@transaction.atomic
def _record_failure(
    actor: Actor, reader: Reader, library: Library, number: str, method: str, reason: str
) -> None:
    request = CardLinkRequest.objects.create(
        reader=reader,
        library=library,
        card_number=number,
        method=method,
        status=CardLinkRequest.Status.FAILED,
        decision_note=reason,
        decided_at=clock.now(),
        decided_by=f"{method}:{library.code}",
    )
    audit.record(
        actor=actor,
        action="card.link_failed",
        obj=request,
        library_code=library.code,
        number=number,
        method=method,
        reason=reason,
    )


@transaction.atomic
def _link_verified(
    *, actor: Actor, reader: Reader, library: Library, number: str, method: str
) -> LinkOutcome:
    _check_number_free(reader, library, number)
    card = create_card_row(
        actor=actor,
        reader=reader,
        library=library,
        kind=Card.Kind.EXISTING,
        number=number,
        activate=True,
        note=f"linked via {method}",
    )
    request = CardLinkRequest.objects.create(
        reader=reader,
        library=library,
        card_number=number,
        method=method,
        status=CardLinkRequest.Status.VERIFIED,
        card=card,
        decided_at=card.service_activated_at,
        decided_by=f"{method}:{library.code}",
    )
    _linked(actor, card, method)
    return LinkOutcome(status="activated", request=request, card=card)


def _linked(actor: Actor, card: Card, method: str) -> None:
    audit.record(
        actor=actor,
        action="card.linked",
        obj=card,
        library_code=card.library.code,
        number=card.number,
        method=method,
    )
    publish_library_event(
        library=card.library, event_type="card.linked", data=card_webhook_data(card)
    )


@transaction.atomic
def _activate_held(*, actor: Actor, card: Card) -> LinkOutcome:
    """The reader already holds this card on the platform (e.g. a deposit card from the desk):
    activating the service needs no check. Idempotent."""
    card = Card.objects.select_for_update().select_related("library", "reader").get(pk=card.pk)
    request = CardLinkRequest.objects.filter(card=card).order_by("-id").first()
    if card.service_activated_at is None:
        if card.status != Card.Status.ACTIVE:
            raise CardStateConflict(status=card.status)
        card.service_activated_at = clock.now()
        card.save(update_fields=["service_activated_at", "updated_at"])
        CardEvent.record(
            card=card,
            actor=actor,
            from_state=card.status,
            to_state=card.status,
            note="service_activated",
        )
        request = CardLinkRequest.objects.create(
            reader=card.reader,
            library=card.library,
            card_number=card.number,
            method=CardLinkRequest.Method.HELD,
            status=CardLinkRequest.Status.VERIFIED,
            card=card,
            decided_at=card.service_activated_at,
            decided_by="platform",
        )
        _linked(actor, card, CardLinkRequest.Method.HELD)
    if request is None:  # a credit card: activated when it was issued
        request = CardLinkRequest(
            reader=card.reader,
            library=card.library,
            card_number=card.number,
            method=CardLinkRequest.Method.HELD,
            status=CardLinkRequest.Status.VERIFIED,
            card=card,
        )
    return LinkOutcome(status="activated", request=request, card=card)


@transaction.atomic
def _ask_staff(*, actor: Actor, reader: Reader, library: Library, number: str) -> LinkOutcome:
    pending = (
        CardLinkRequest.objects.select_for_update()
        .filter(reader=reader, library=library, status=CardLinkRequest.Status.PENDING)
        .first()
    )
    if pending is not None:
        if pending.card_number == number:
            return LinkOutcome(status="pending", request=pending)
        pending.status = CardLinkRequest.Status.WITHDRAWN
        pending.decided_at = clock.now()
        pending.decided_by = actor.ref
        pending.save(update_fields=["status", "decided_at", "decided_by", "updated_at"])
    try:
        with transaction.atomic():
            request = CardLinkRequest.objects.create(
                reader=reader,
                library=library,
                card_number=number,
                method=CardLinkRequest.Method.STAFF,
                status=CardLinkRequest.Status.PENDING,
            )
    except IntegrityError:  # a concurrent identical request won
        request = CardLinkRequest.objects.get(
            reader=reader, library=library, status=CardLinkRequest.Status.PENDING
        )
        return LinkOutcome(status="pending", request=request)
    audit.record(
        actor=actor,
        action="card.link_requested",
        obj=request,
        library_code=library.code,
        number=number,
    )
    return LinkOutcome(status="pending", request=request)


# --- staff decisions -------------------------------------------------------------------------


def _pending_for_update(request: CardLinkRequest) -> CardLinkRequest:
    request = (
        CardLinkRequest.objects.select_for_update()
        .select_related("library", "reader")
        .get(pk=request.pk)
    )
    if request.status != CardLinkRequest.Status.PENDING:
        raise RequestNotPending(status=request.status)
    return request


@transaction.atomic
def approve_link_request(*, actor: Actor, request: CardLinkRequest, note: str = "") -> Card:
    """The library's staff confirm the card is the reader's: it is linked and activated."""
    require_library(actor, request.library_id)
    request = _pending_for_update(request)
    reader, library = request.reader, request.library
    require_active_reader(reader)
    _check_number_free(reader, library, request.card_number)
    card = create_card_row(
        actor=actor,
        reader=reader,
        library=library,
        kind=Card.Kind.EXISTING,
        number=request.card_number,
        activate=True,
        note=f"linked via staff request {request.pk}",
    )
    request.status = CardLinkRequest.Status.APPROVED
    request.card = card
    request.decided_at = clock.now()
    request.decided_by = actor.ref
    request.decision_note = (note or "").strip()[:200]
    request.save(
        update_fields=["status", "card", "decided_at", "decided_by", "decision_note", "updated_at"]
    )
    _linked(actor, card, CardLinkRequest.Method.STAFF)
    return card


@transaction.atomic
def refuse_link_request(*, actor: Actor, request: CardLinkRequest, reason: str) -> CardLinkRequest:
    require_library(actor, request.library_id)
    reason = clean_reason(reason)
    request = _pending_for_update(request)
    request.status = CardLinkRequest.Status.REFUSED
    request.decided_at = clock.now()
    request.decided_by = actor.ref
    request.decision_note = reason
    request.save(
        update_fields=["status", "decided_at", "decided_by", "decision_note", "updated_at"]
    )
    audit.record(
        actor=actor,
        action="card.link_refused",
        obj=request,
        library_code=request.library.code,
        number=request.card_number,
        reason=reason,
    )
    return request
