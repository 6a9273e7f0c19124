"""Credit authorization: a reader asks a provider for a yes/no at the platform threshold.

Flow: ``start_authorization`` saves the authorization (its ``request_no`` is our key at the
provider) *before* calling the provider, then opens it there and keeps the confirm URL. The
reader confirms on the provider's page; the decision arrives by signed notification
(``xinyue.credit.services.notifications``) or, as a fallback, by ``refresh_authorization``
(the return page, a button, the reconciliation job) querying the provider with the same key.

No provider call ever runs inside a database transaction (a SQLite writer would block the
embedded sandbox answering it), and none runs without the reader's ``credit_check`` consent.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from xinyue.core import audit, clock
from xinyue.core.actors import Actor, ActorKind
from xinyue.core.history import Audit, record_transition
from xinyue.core.permissions import Action, require_reader
from xinyue.credit import conf
from xinyue.credit.errors import ConsentRequired, ProviderDisabled, ProviderFailed
from xinyue.credit.models import AuthorizationEvent, CreditAuthorization, Provider
from xinyue.credit.providers import ProviderNotConfigured, get_provider
from xinyue.credit.providers.base import (
    AdmittanceResult,
    Decision,
    ProviderError,
    ProviderRefused,
    ProviderTimeout,
    ProviderUnavailable,
)
from xinyue.credit.selectors import provider_setting

log = logging.getLogger("xinyue.credit")

RESUME_PENDING_FOR = dt.timedelta(minutes=30)


LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_request_no(prefix: str = "XYA") -> str:
    """``XYA20260312093015`` + 8 random letters: unique, readable, ≤ 64 characters (Zhima's
    limit), and never a long run of digits (which log masking would take for an ID number)."""
    suffix = "".join(secrets.choice(LETTERS) for _position in range(8))
    return f"{prefix}{clock.local(clock.now()):%Y%m%d%H%M%S}{suffix}"


def _require_reader_self(actor: Actor, reader) -> None:
    require_reader(actor, reader.pk, Action.AUTHORIZE_CREDIT, message=_("只能为本人发起信用授权"))


def require_credit_consent(reader) -> None:
    from xinyue.readers.selectors import has_consent

    if not has_consent(reader=reader, purpose="credit_check"):
        raise ConsentRequired(purpose="credit_check")


def _consent_version(reader) -> int | None:
    from xinyue.readers.selectors.consents import consent_states

    for state in consent_states(reader=reader):
        if state.purpose == "credit_check":
            return state.granted_version
    return None


def _event(
    authorization: CreditAuthorization,
    actor: Actor,
    *,
    from_state: str,
    to_state: str,
    note: str = "",
    audit: Audit | None = None,
) -> None:
    record_transition(
        AuthorizationEvent,
        authorization=authorization,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        audit=audit,
    )


def _known_identity(reader, provider: str) -> str:
    """The reader's provider user id, if they logged in through that provider's channel."""
    from xinyue.readers.selectors.identity import channel_identities

    for identity in channel_identities(reader=reader):
        if identity.provider == provider:
            return identity.external_id
    return ""


def _adapter(provider: str, *, read_timeout: float | None = None):
    try:
        return get_provider(provider, read_timeout=read_timeout)
    except ProviderNotConfigured:
        raise ProviderDisabled(provider=provider) from None


def return_url_for(authorization: CreditAuthorization) -> str:
    path = reverse("credit:authorization_return", args=[authorization.pk])
    return conf.public_base_url() + path


def start_authorization(*, actor: Actor, reader, provider: str) -> CreditAuthorization:
    """Open a credit check at ``provider`` for ``reader``; returns it pending, with a confirm URL.

    Refused without the reader's consent to the credit check, or for a provider the operator
    switched off. A recent pending authorization at the same provider is resumed (same key), so
    pressing the button twice or retrying after a timeout never opens a second one.
    """
    _require_reader_self(actor, reader)
    if provider not in Provider.values:
        raise ProviderDisabled(provider=provider)
    setting = provider_setting(provider)
    if not setting.enabled or not conf.is_configured(provider):
        raise ProviderDisabled(provider=provider)
    require_credit_consent(reader)
    # The reader is waiting: a short wait for the provider, then the background task.
    adapter = _adapter(provider, read_timeout=settings.CREDIT_INTERACTIVE_TIMEOUT_SECONDS)
    with transaction.atomic():
        authorization = (
            CreditAuthorization.objects.select_for_update()
            .filter(
                reader=reader,
                provider=provider,
                status=CreditAuthorization.Status.PENDING,
                created_at__gte=clock.now() - RESUME_PENDING_FOR,
            )
            .order_by("-created_at")
            .first()
        )
        if authorization is None:
            authorization = CreditAuthorization.objects.create(
                reader=reader,
                provider=provider,
                request_no=new_request_no(),
                threshold=setting.threshold,
                consent_version=_consent_version(reader),
                channel=actor.channel.value,
            )
            _event(
                authorization,
                actor,
                from_state="",
                to_state="pending",
                audit=Audit(
                    "credit.authorization_started",
                    detail={
                        "provider": provider,
                        "threshold": setting.threshold,
                        "request_no": authorization.request_no,
                    },
                ),
            )
    if authorization.confirm_url:
        return authorization
    try:
        return _open_at_provider(authorization, adapter, actor)
    except (ProviderTimeout, ProviderUnavailable) as exc:
        # Slow or down: the reader sees "pending" (the page polls) and a background task opens
        # it with the same key; the web request never waits out a slow provider.
        log.warning(
            "credit authorization %s: %s; finishing in the background",
            authorization.request_no,
            exc,
        )
        _enqueue_open(authorization.pk, attempt=1)
        return authorization


OPEN_RETRY_SECONDS = (5, 15, 60, 300)


def _enqueue_open(authorization_id: int, *, attempt: int) -> None:
    from xinyue.credit.tasks import open_authorization

    delay = OPEN_RETRY_SECONDS[min(attempt, len(OPEN_RETRY_SECONDS)) - 1]
    run_after = clock.now() + dt.timedelta(seconds=delay)
    transaction.on_commit(
        lambda: open_authorization.using(run_after=run_after).enqueue(
            authorization_id=authorization_id, attempt=attempt
        )
    )


def open_pending_authorization(
    *, authorization_id: int, attempt: int = 1
) -> CreditAuthorization | None:
    """The background half of ``start_authorization``: open a pending authorization at its
    provider (same key, full timeouts), retried with back-off; after the last try it fails and
    the reader may start again."""
    from xinyue.core.actors import SYSTEM

    authorization = (
        CreditAuthorization.objects.select_related("reader")
        .filter(pk=authorization_id, status=CreditAuthorization.Status.PENDING, confirm_url="")
        .first()
    )
    if authorization is None:
        return None
    try:
        return _open_at_provider(authorization, _adapter(authorization.provider), SYSTEM)
    except (ProviderTimeout, ProviderUnavailable) as exc:
        if attempt >= len(OPEN_RETRY_SECONDS):
            with transaction.atomic():
                CreditAuthorization.objects.filter(pk=authorization.pk).update(
                    status=CreditAuthorization.Status.FAILED,
                    failure_code=(exc.code or "timeout")[:40],
                    updated_at=clock.now(),
                )
                _event(
                    authorization, SYSTEM, from_state="pending", to_state="failed", note="timeout"
                )
            return None
        with transaction.atomic():
            _enqueue_open(authorization.pk, attempt=attempt + 1)
        return None
    except (ProviderFailed, ProviderDisabled, ConsentRequired):
        return None


def _open_at_provider(
    authorization: CreditAuthorization, adapter, actor: Actor
) -> CreditAuthorization:
    """Open ``authorization`` at its provider and keep the confirm URL. ``ProviderTimeout`` /
    ``ProviderUnavailable`` leave it pending for a retry with the same key."""
    provider = authorization.provider
    try:
        start = adapter.begin_admittance(
            request_no=authorization.request_no,
            threshold=authorization.threshold,
            return_url=return_url_for(authorization),
            notify_url=conf.notify_url(provider),
            provider_user_id=_known_identity(authorization.reader, provider),
        )
    except ProviderRefused as exc:
        with transaction.atomic():
            CreditAuthorization.objects.filter(pk=authorization.pk).update(
                status=CreditAuthorization.Status.FAILED,
                failure_code=(exc.sub_code or exc.code)[:40],
                updated_at=clock.now(),
            )
            _event(authorization, actor, from_state="pending", to_state="failed", note=exc.sub_code)
        log.warning(
            "credit authorization %s refused by %s: %s", authorization.request_no, provider, exc
        )
        raise ProviderFailed(provider=provider, reason=exc.sub_code or exc.code) from None
    except (ProviderTimeout, ProviderUnavailable):
        raise
    except ProviderError as exc:
        # Unknown outcome (bad signature, odd answer): stays pending, resumed with the same key.
        log.warning("credit authorization %s: %s", authorization.request_no, exc)
        raise ProviderFailed(provider=provider, reason=exc.code or type(exc).__name__) from None
    with transaction.atomic():
        CreditAuthorization.objects.filter(pk=authorization.pk).update(
            provider_ref=start.provider_ref[:64],
            confirm_url=start.confirm_url,
            updated_at=clock.now(),
        )
    authorization.refresh_from_db()
    return authorization


def cancel_authorization(
    *, actor: Actor, authorization: CreditAuthorization
) -> CreditAuthorization:
    """The reader gives up on a pending authorization (e.g. the provider never answered); a new
    one can then be started. A decided one is left as it is."""
    _require_reader_self(actor, authorization.reader)
    with transaction.atomic():
        locked = CreditAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.status != CreditAuthorization.Status.PENDING:
            return locked
        locked.status = CreditAuthorization.Status.FAILED
        locked.failure_code = "cancelled"
        locked.save(update_fields=["status", "failure_code", "updated_at"])
        _event(locked, actor, from_state="pending", to_state="failed", note="cancelled")
        audit.record(actor=actor, action="credit.authorization_cancelled", obj=locked)
    return locked


def record_decision(
    *,
    authorization: CreditAuthorization,
    result: AdmittanceResult,
    via: str,
    actor: Actor,
) -> CreditAuthorization:
    """Store a provider's yes/no (never a score). Idempotent: a decided authorization keeps its
    first decision, whichever of notification and query arrives second."""
    if result.decision == Decision.PENDING:
        return authorization
    with transaction.atomic():
        locked = CreditAuthorization.objects.select_for_update().get(pk=authorization.pk)
        if locked.status != CreditAuthorization.Status.PENDING:
            if locked.is_decided and locked.status != result.decision.value:
                log.warning(
                    "credit authorization %s: later %s answer %s ignored (kept %s)",
                    locked.request_no,
                    via,
                    result.decision.value,
                    locked.status,
                )
            return locked
        setting = provider_setting(locked.provider)
        now = clock.now()
        locked.status = (
            CreditAuthorization.Status.ADMITTED
            if result.decision == Decision.ADMITTED
            else CreditAuthorization.Status.REFUSED
        )
        locked.decided_at = now
        locked.decided_via = via
        locked.expires_at = now + dt.timedelta(days=setting.validity_days)
        if result.provider_user_id:
            locked.provider_user_id = result.provider_user_id[:64]
        if result.provider_ref and not locked.provider_ref:
            locked.provider_ref = result.provider_ref[:64]
        locked.save()
        _event(locked, actor, from_state="pending", to_state=locked.status, note=via)
        audit.record(
            actor=actor,
            action="credit.authorization_decided",
            obj=locked,
            provider=locked.provider,
            status=locked.status,
            threshold=locked.threshold,
            via=via,
            consent_version=locked.consent_version,
        )
    log.info("credit authorization %s %s via %s", locked.request_no, locked.status, via)
    return locked


def refresh_authorization(
    *, actor: Actor, authorization: CreditAuthorization
) -> CreditAuthorization:
    """The fallback: ask the provider for the decision of a pending authorization (same key)."""
    if actor.kind not in (ActorKind.SYSTEM, ActorKind.OPERATOR):
        _require_reader_self(actor, authorization.reader)
    if authorization.status != CreditAuthorization.Status.PENDING or not authorization.provider_ref:
        return authorization
    require_credit_consent(authorization.reader)
    adapter = _adapter(authorization.provider)
    try:
        result = adapter.query_admittance(request_no=authorization.request_no)
    except ProviderError as exc:
        log.warning("credit authorization %s query failed: %s", authorization.request_no, exc)
        raise ProviderFailed(provider=authorization.provider, reason=exc.code or "error") from None
    return record_decision(
        authorization=authorization, result=result, via=CreditAuthorization.Via.QUERY, actor=actor
    )


def recheck_admittance(
    *, actor: Actor, reader, provider: str | None = None
) -> CreditAuthorization | None:
    """Re-check an authorized reader without their interaction (before an order, once the last
    decision expired): a new authorization decided at today's threshold. None when the reader
    never authorized at a provider that can be asked again."""
    if actor.kind not in (ActorKind.SYSTEM, ActorKind.OPERATOR, ActorKind.STAFF):
        _require_reader_self(actor, reader)
    previous = (
        (
            CreditAuthorization.objects.filter(reader=reader)
            .exclude(provider_user_id="")
            .filter(provider=provider)
            if provider
            else CreditAuthorization.objects.filter(reader=reader).exclude(provider_user_id="")
        )
        .order_by("-decided_at", "-id")
        .first()
    )
    if previous is None:
        return None
    setting = provider_setting(previous.provider)
    if not setting.enabled or not conf.is_configured(previous.provider):
        return None
    require_credit_consent(reader)
    adapter = _adapter(previous.provider)
    with transaction.atomic():
        authorization = CreditAuthorization.objects.create(
            reader=reader,
            provider=previous.provider,
            request_no=new_request_no("XYR"),
            threshold=setting.threshold,
            consent_version=_consent_version(reader),
            provider_user_id=previous.provider_user_id,
            channel=actor.channel.value,
        )
        _event(authorization, actor, from_state="", to_state="pending", note="recheck")
    try:
        result = adapter.check_admittance(
            provider_user_id=previous.provider_user_id,
            threshold=setting.threshold,
            request_no=authorization.request_no,
        )
    except ProviderError as exc:
        log.warning("credit recheck %s failed: %s", authorization.request_no, exc)
        raise ProviderFailed(provider=previous.provider, reason=exc.code or "error") from None
    return record_decision(
        authorization=authorization, result=result, via=CreditAuthorization.Via.RECHECK, actor=actor
    )


def reconcile_pending_authorizations(*, older_than: dt.timedelta = dt.timedelta(minutes=2)) -> int:
    """Query the provider for authorizations still pending after ``older_than`` (lost
    notifications); returns how many got a decision. Run by the reconciliation job."""
    from xinyue.core.actors import SYSTEM

    now = clock.now()
    decided = 0
    candidates = CreditAuthorization.objects.filter(
        status=CreditAuthorization.Status.PENDING,
        created_at__lte=now - older_than,
        created_at__gte=now - dt.timedelta(days=2),
    ).exclude(provider_ref="")
    for authorization in candidates[:200]:
        try:
            result = refresh_authorization(actor=SYSTEM, authorization=authorization)
        except (ProviderFailed, ProviderDisabled, ConsentRequired):
            continue
        decided += result.is_decided
    return decided
