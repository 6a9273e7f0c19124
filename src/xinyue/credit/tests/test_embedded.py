"""Embedded mode (the default): the sandbox mounted in this platform is reached in process, both
ways — our calls to its gateway and its notifications to our endpoint — with the same signing
and checks; no web worker ever waits on another."""

from __future__ import annotations

import pytest
from django.utils import translation

from xinyue.credit import selectors, services
from xinyue.credit.models import ProviderNotification
from xinyue.credit.providers import http
from xinyue.credit.sandbox.models import SandboxNotification
from xinyue.readers.services.identity import reader_actor


@pytest.fixture
def embedded(settings):
    settings.CREDIT_SANDBOX_IN_PROCESS = True
    settings.PUBLIC_BASE_URL = "http://127.0.0.1:9"  # nothing listens there: no socket is used


@pytest.mark.django_db
def test_the_whole_authorization_in_process(embedded, reader, django_capture_on_commit_callbacks):
    authorization = services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )
    assert authorization.confirm_url.startswith("http://127.0.0.1:9/sandbox/zhima/gateway.do?")
    with django_capture_on_commit_callbacks(execute=True):
        response = http.client().post(
            authorization.confirm_url,
            data={"decision": "approve", "score": "600"},
            allow_redirects=False,
        )
    assert response.status_code == 302
    authorization.refresh_from_db()
    assert (authorization.status, authorization.decided_via) == ("admitted", "notification")
    assert SandboxNotification.objects.get().status == "delivered"
    assert ProviderNotification.objects.get().outcome == "applied"
    assert selectors.current_admittance(reader=reader).admitted


@pytest.mark.django_db
def test_the_callers_language_survives_an_in_process_call(embedded, reader):
    with translation.override("en"):
        services.start_authorization(actor=reader_actor(reader), reader=reader, provider="sandbox")
        assert translation.get_language() == "en"


@pytest.mark.django_db
def test_other_urls_are_not_routed_in_process(embedded):
    session = http.client()
    assert session.get_adapter("http://127.0.0.1:9/sandbox/zhima/gateway.do").__class__ is (
        http.InProcessAdapter
    )
    assert session.get_adapter("https://openapi.alipay.com/gateway.do").__class__ is not (
        http.InProcessAdapter
    )
