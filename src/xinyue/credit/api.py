"""API operations of the credit app (mounted under /api/v1/): credit authorizations, the
reader's admittance, the providers on offer, the operator's provider settings, and the
providers' notification endpoint ``POST /credit/notify/{provider}``.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Router, Schema, Status

from xinyue.accounts.middleware import request_actor
from xinyue.core.actors import Actor, ActorKind
from xinyue.core.errors import PermissionDenied
from xinyue.core.schemas import ErrorOut, ObjectIn
from xinyue.credit import selectors, services
from xinyue.credit.models import CreditAuthorization, Provider

router = Router(tags=["credit"])

MAX_NOTIFICATION_BYTES = 64 * 1024


class AuthorizationIn(ObjectIn):
    provider: str = "sandbox"


class AuthorizationOut(Schema):
    id: int
    provider: str
    status: str
    threshold: int
    confirm_url: str
    created_at: datetime
    decided_at: datetime | None
    expires_at: datetime | None


class AdmittanceOut(Schema):
    admitted: bool | None
    provider: str | None
    threshold: int | None
    decided_at: datetime | None
    expires_at: datetime | None
    authorization_id: int | None


class ProviderOut(Schema):
    provider: str
    label: str
    threshold: int
    validity_days: int


class SettingOut(ProviderOut):
    enabled: bool
    configured: bool


class SettingIn(ObjectIn):
    threshold: int | None = None
    enabled: bool | None = None
    validity_days: int | None = None


def _reader_and_actor(request: HttpRequest) -> tuple[object, Actor]:
    from xinyue.readers.selectors import reader_from_request

    reader = reader_from_request(request)
    actor = request_actor(request)
    if reader is None or actor is None or actor.reader_id != reader.pk:
        raise PermissionDenied(_("只有读者本人可以进行信用授权"), required="reader")
    return reader, actor


def _out(authorization: CreditAuthorization) -> dict:
    return {
        "id": authorization.pk,
        "provider": authorization.provider,
        "status": authorization.status,
        "threshold": authorization.threshold,
        "confirm_url": authorization.confirm_url
        if authorization.status == CreditAuthorization.Status.PENDING
        else "",
        "created_at": authorization.created_at,
        "decided_at": authorization.decided_at,
        "expires_at": authorization.expires_at,
    }


@router.post(
    "/credit/authorizations",
    response={201: AuthorizationOut, 403: ErrorOut, 409: ErrorOut, 502: ErrorOut},
    summary="Start a credit authorization (the reader then confirms at confirm_url)",
)
def start_authorization(request: HttpRequest, payload: AuthorizationIn):
    reader, actor = _reader_and_actor(request)
    authorization = services.start_authorization(
        actor=actor, reader=reader, provider=payload.provider
    )
    return Status(201, _out(authorization))


@router.get(
    "/credit/authorizations/{authorization_id}",
    response={200: AuthorizationOut, 404: ErrorOut},
    summary="An authorization's status: pending | admitted | refused (| failed)",
)
def get_authorization(request: HttpRequest, authorization_id: int):
    actor = request.auth
    if actor.kind is ActorKind.READER:
        _reader, actor = _reader_and_actor(request)
    return _out(selectors.authorization_get(actor=actor, authorization_id=authorization_id))


@router.post(
    "/credit/authorizations/{authorization_id}/refresh",
    response={200: AuthorizationOut, 404: ErrorOut, 502: ErrorOut},
    summary="Ask the provider for the decision now (the fallback when no notification came)",
)
def refresh_authorization(request: HttpRequest, authorization_id: int):
    _reader, actor = _reader_and_actor(request)
    authorization = selectors.authorization_get(actor=actor, authorization_id=authorization_id)
    return _out(services.refresh_authorization(actor=actor, authorization=authorization))


@router.get(
    "/credit/admittance",
    response={200: AdmittanceOut, 403: ErrorOut},
    summary="The reader's current admittance (nulls: none, or it expired)",
)
def get_admittance(request: HttpRequest):
    reader, _actor = _reader_and_actor(request)
    admittance = selectors.current_admittance(reader=reader)
    if admittance is None:
        return {
            "admitted": None,
            "provider": None,
            "threshold": None,
            "decided_at": None,
            "expires_at": None,
            "authorization_id": None,
        }
    return asdict(admittance)


@router.get(
    "/credit/providers",
    response=list[ProviderOut],
    auth=None,
    summary="The credit providers a reader can choose, with their admittance thresholds",
)
def list_providers(request: HttpRequest):
    return [
        {
            "provider": s.provider,
            "label": str(Provider(s.provider).label),
            "threshold": s.threshold,
            "validity_days": s.validity_days,
        }
        for s in selectors.available_providers()
    ]


def _setting_out(setting) -> dict:
    return {
        "provider": setting.provider,
        "label": str(Provider(setting.provider).label),
        "threshold": setting.threshold,
        "validity_days": setting.validity_days,
        "enabled": setting.enabled,
        "configured": selectors.provider_is_configured(setting.provider),
    }


@router.get(
    "/credit/settings",
    response={200: list[SettingOut], 403: ErrorOut},
    summary="Provider settings (operator)",
)
def list_settings(request: HttpRequest):
    from xinyue.core.permissions import require_operator

    require_operator(request.auth)
    return [_setting_out(s) for s in selectors.provider_settings()]


@router.patch(
    "/credit/settings/{provider}",
    response={200: SettingOut, 403: ErrorOut, 422: ErrorOut},
    summary="Change a provider's threshold, on/off or validity days (operator, audited)",
)
def update_setting(request: HttpRequest, provider: str, payload: SettingIn):
    setting = services.update_provider_setting(
        actor=request.auth,
        provider=provider,
        threshold=payload.threshold,
        enabled=payload.enabled,
        validity_days=payload.validity_days,
    )
    return _setting_out(setting)


@router.post(
    "/credit/notify/{provider}",
    auth=None,
    response={200: None, 204: None, 400: None, 404: None, 413: None, 500: None},
    summary="Provider callbacks (Alipay form POST signed RSA2; WeChat Pay APIv3 JSON)",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            }
        }
    },
)
def notify(request: HttpRequest, provider: str):
    if len(request.body) > MAX_NOTIFICATION_BYTES:
        return HttpResponse("too large", status=413, content_type="text/plain")
    reply = services.receive_notification(
        provider=provider, headers=dict(request.headers), body=request.body
    )
    return HttpResponse(reply.body, status=reply.status, content_type=reply.content_type)
