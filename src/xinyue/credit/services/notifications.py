"""Provider notifications: verify, store once in the inbox, apply, acknowledge.

Verification (signature, app id, time window; for WeChat the AEAD tag) runs on the raw body
*before* anything is written. A verified notification is inserted into ``ProviderNotification``
under the unique (provider, notify id): a duplicate or a replay hits the constraint and is
acknowledged, what it applied rolled back with it. Applying it (a decision, an order state)
happens in the same transaction as the insert, so a failure leaves no trace and the provider
retries.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from django.db import IntegrityError, transaction

from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Actor, Channel
from xinyue.credit.models import CreditAuthorization, ProviderNotification
from xinyue.credit.providers import ProviderNotConfigured, get_provider
from xinyue.credit.providers.base import (
    AdmittanceResult,
    HttpReply,
    ProviderEvent,
    SignatureInvalid,
)
from xinyue.credit.selectors import credit_order_by_out_order_no

log = logging.getLogger("xinyue.credit.notify")

PROVIDER_ACTOR = {
    "sandbox": Actor(kind=SYSTEM.kind, label="provider:sandbox", channel=Channel.SYSTEM),
    "zhima": Actor(kind=SYSTEM.kind, label="provider:zhima", channel=Channel.SYSTEM),
    "wechat_payscore": Actor(
        kind=SYSTEM.kind, label="provider:wechat_payscore", channel=Channel.SYSTEM
    ),
}


def receive_notification(*, provider: str, headers: Mapping[str, str], body: bytes) -> HttpReply:
    """Handle one provider callback; the reply tells the provider whether to retry."""
    try:
        adapter = get_provider(provider)
    except ProviderNotConfigured:
        return HttpReply(404, "unknown provider")
    try:
        event = adapter.parse_notification(headers, body)
    except SignatureInvalid as exc:
        log.warning("credit notification from %s rejected: %s", provider, exc)
        return adapter.ack(False)
    # Applied first, then stored with its outcome, in one transaction: a duplicate's insert
    # hits the unique (provider, notify id) and rolls its application back with it, so it
    # changes nothing (one INSERT, no savepoint and no UPDATE of the stored row afterwards).
    inserting = False
    try:
        with transaction.atomic():
            outcome = _apply(event, actor=PROVIDER_ACTOR.get(provider, SYSTEM))
            inserting = True
            ProviderNotification.objects.create(
                provider=provider,
                notify_id=event.notify_id[:80],
                kind=event.kind,
                reference=event.reference[:64],
                payload=dict(event.fields),
                processed_at=clock.now(),
                outcome=outcome,
            )
    except IntegrityError:
        if not inserting:
            log.exception("credit notification %s:%s failed to apply", provider, event.notify_id)
            return adapter.ack(False)
        log.info("credit notification %s:%s is a duplicate", provider, event.notify_id)
        return adapter.ack(True)
    except Exception:
        log.exception("credit notification %s:%s failed to apply", provider, event.notify_id)
        return adapter.ack(False)
    return adapter.ack(True)


def _apply(event: ProviderEvent, *, actor: Actor) -> str:
    from xinyue.credit.services.authorizations import record_decision
    from xinyue.credit.services.orders import apply_order_event

    if event.kind == "admittance":
        authorization = CreditAuthorization.objects.filter(
            provider=event.provider, request_no=event.reference
        ).first()
        if authorization is None:
            return "unknown_reference"
        if event.provider_ref and authorization.provider_ref not in ("", event.provider_ref):
            return "reference_mismatch"
        record_decision(
            authorization=authorization,
            result=AdmittanceResult(
                request_no=event.reference,
                decision=event.decision,
                provider_ref=event.provider_ref,
                provider_user_id=event.provider_user_id,
            ),
            via=CreditAuthorization.Via.NOTIFICATION,
            actor=actor,
        )
        return "applied"
    if event.kind == "order":
        order = credit_order_by_out_order_no(provider=event.provider, out_order_no=event.reference)
        if order is None:
            return "unknown_reference"
        return apply_order_event(order=order, event=event, actor=actor)
    return "ignored"
