"""A reader's credit authorization against the sandbox gateway over real HTTP (live server):
confirm page → signed notification → stored decision; the redirect + query fallback; duplicate
notifications; the threshold at 549/550; never a score in our tables."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import requests
from django.core import serializers

from xinyue.core.models import AuditEntry
from xinyue.core.testing import run_scheduled_tasks
from xinyue.credit import selectors, services
from xinyue.credit.errors import ConsentRequired, ProviderDisabled, ProviderFailed
from xinyue.credit.models import AuthorizationEvent, CreditAuthorization, ProviderNotification
from xinyue.credit.sandbox.models import SandboxAuthorization, SandboxNotification
from xinyue.credit.tests.conftest import make_reader
from xinyue.readers.services.consents import withdraw_consent
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db(transaction=True)


def start(reader):
    return services.start_authorization(
        actor=reader_actor(reader), reader=reader, provider="sandbox"
    )


def test_approve_at_600_is_admitted_through_the_signed_notification(live):
    reader = make_reader()
    authorization = start(reader)
    assert authorization.status == "pending"
    assert authorization.threshold == 550
    assert authorization.confirm_url.startswith(f"{live.url}/sandbox/zhima/gateway.do?")
    assert authorization.consent_version == 1

    response = live.confirm(authorization.confirm_url, "approve", 600)
    assert response.status_code == 302
    assert response.headers["Location"].startswith(
        f"{live.url}/credit/authorizations/{authorization.pk}/return/?"
    )
    authorization.refresh_from_db()
    assert authorization.status == "admitted"
    assert authorization.decided_via == "notification"
    assert authorization.provider_user_id.startswith("2088")
    inbox = ProviderNotification.objects.get()
    assert (inbox.provider, inbox.kind, inbox.outcome) == ("sandbox", "admittance", "applied")
    assert SandboxNotification.objects.get().status == "delivered"
    admittance = selectors.current_admittance(reader=reader)
    assert admittance.admitted is True
    assert admittance.provider == "sandbox"
    assert admittance.threshold == 550
    assert admittance.authorization_id == authorization.pk
    assert (admittance.expires_at - admittance.decided_at).days == 30
    assert list(AuthorizationEvent.objects.values_list("to_state", flat=True)) == [
        "pending",
        "admitted",
    ]
    assert AuditEntry.objects.filter(action="credit.authorization_decided").count() == 1


@pytest.mark.parametrize(("score", "status"), [(549, "refused"), (550, "admitted")])
def test_the_threshold_is_inclusive(live, score, status):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", score)
    authorization.refresh_from_db()
    assert authorization.status == status
    assert authorization.threshold == 550


def test_no_score_is_stored_on_our_side(live):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 731)
    assert SandboxAuthorization.objects.get().score == 731  # the provider knows it; we do not
    rows = json.loads(
        serializers.serialize(
            "json",
            [
                *CreditAuthorization.objects.all(),
                *ProviderNotification.objects.all(),
                *AuthorizationEvent.objects.all(),
                *AuditEntry.objects.filter(action__startswith="credit."),
            ],
        )
    )

    def values(node):
        if isinstance(node, dict):
            for key, value in node.items():
                assert "score" not in str(key)
                yield from values(value)
        elif isinstance(node, list):
            for item in node:
                yield from values(item)
        else:
            yield node

    found = list(values(rows))
    assert "admitted" in found
    assert 731 not in found
    assert "731" not in found


def test_deny_is_refused(live):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "deny", 900)
    authorization.refresh_from_db()
    assert authorization.status == "refused"
    assert selectors.current_admittance(reader=reader).admitted is False


def test_without_a_notification_the_return_and_query_decide(live):
    reader = make_reader()
    live.control("users", {"login": "quiet", "score": 700, "faults": ["no_notify"]})
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 700, login="quiet")
    authorization.refresh_from_db()
    assert authorization.status == "pending"
    assert SandboxNotification.objects.count() == 0
    refreshed = services.refresh_authorization(
        actor=reader_actor(reader), authorization=authorization
    )
    assert refreshed.status == "admitted"
    assert refreshed.decided_via == "query"


def test_a_duplicate_notification_is_processed_once(live):
    reader = make_reader()
    live.control("users", {"login": "twice", "score": 700, "faults": ["duplicate_notify"]})
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 700, login="twice")
    sent = SandboxNotification.objects.all()
    assert [n.status for n in sent] == ["delivered", "delivered"]  # both acknowledged
    assert len({n.notify_id for n in sent}) == 1
    assert ProviderNotification.objects.count() == 1
    assert AuthorizationEvent.objects.filter(to_state="admitted").count() == 1
    assert AuditEntry.objects.filter(action="credit.authorization_decided").count() == 1


def test_a_replayed_notification_changes_nothing(live):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 700)
    params = SandboxNotification.objects.get().params
    replay = requests.post(f"{live.url}/api/v1/credit/notify/sandbox", data=params, timeout=10)
    assert replay.text == "success"
    assert ProviderNotification.objects.count() == 1
    assert AuthorizationEvent.objects.count() == 2


def test_pressing_twice_resumes_the_same_authorization(live):
    reader = make_reader()
    first = start(reader)
    second = start(reader)
    assert second.pk == first.pk
    assert second.confirm_url == first.confirm_url
    assert SandboxAuthorization.objects.count() == 1


def test_a_timeout_then_a_retry_opens_one_authorization(live, settings):
    reader = make_reader()
    live.control(
        "faults", {"kind": "timeout", "method": "zhima.credit.admittance.initialize", "times": 1}
    )
    settings.CREDIT_INTERACTIVE_TIMEOUT_SECONDS = 0.3
    first = start(reader)
    pending = CreditAuthorization.objects.get()
    assert (first.pk, pending.status, pending.confirm_url) == (pending.pk, "pending", "")
    assert run_scheduled_tasks(after=dt.timedelta(minutes=1)) == 1  # the background half
    pending.refresh_from_db()
    assert pending.confirm_url
    resumed = start(reader)  # pressed again: the same one
    assert (resumed.pk, resumed.confirm_url) == (pending.pk, pending.confirm_url)
    assert SandboxAuthorization.objects.count() == 1  # the same request_no, the same one there


def test_a_forged_answer_is_not_believed(live):
    reader = make_reader()
    live.control("faults", {"kind": "bad_signature", "times": 1})
    with pytest.raises(ProviderFailed):
        start(reader)
    assert CreditAuthorization.objects.get().confirm_url == ""


def test_no_provider_call_without_consent(live):
    reader = make_reader(consents=("id_number",))
    with pytest.raises(ConsentRequired):
        start(reader)
    assert CreditAuthorization.objects.count() == 0
    assert SandboxAuthorization.objects.count() == 0


def test_withdrawing_consent_voids_the_decision_and_stops_queries(live):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 700)
    assert selectors.current_admittance(reader=reader).admitted
    withdraw_consent(actor=reader_actor(reader), reader=reader, purpose="credit_check")
    assert selectors.current_admittance(reader=reader) is None
    with pytest.raises(ConsentRequired):
        start(reader)
    with pytest.raises(ConsentRequired):
        services.recheck_admittance(actor=reader_actor(reader), reader=reader)


def test_a_switched_off_provider_is_refused(live, operator):
    reader = make_reader()
    services.update_provider_setting(actor=operator, provider="sandbox", enabled=False)
    with pytest.raises(ProviderDisabled):
        start(reader)
    assert CreditAuthorization.objects.count() == 0


def test_an_expired_admittance_is_rechecked_without_the_reader(live, operator):
    reader = make_reader()
    authorization = start(reader)
    live.confirm(authorization.confirm_url, "approve", 560)
    authorization.refresh_from_db()
    CreditAuthorization.objects.filter(pk=authorization.pk).update(
        expires_at=authorization.decided_at
    )
    assert selectors.current_admittance(reader=reader) is None
    services.update_provider_setting(actor=operator, provider="sandbox", threshold=580)
    again = services.recheck_admittance(actor=reader_actor(reader), reader=reader)
    assert (again.status, again.threshold, again.decided_via) == ("refused", 580, "recheck")
    assert selectors.current_admittance(reader=reader).admitted is False


def test_the_api_flow_for_a_channel_app(live):
    make_reader()
    login = requests.post(
        f"{live.url}/api/v1/auth/token",
        json={"id_number": "330106199001010026", "password": "read-more-books-7"},
        timeout=10,
    )
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['token']}"}
    created = requests.post(
        f"{live.url}/api/v1/credit/authorizations",
        json={"provider": "sandbox"},
        headers=headers,
        timeout=10,
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["provider"], body["threshold"]) == ("pending", "sandbox", 550)
    live.confirm(body["confirm_url"], "approve", 550)
    got = requests.get(
        f"{live.url}/api/v1/credit/authorizations/{body['id']}", headers=headers, timeout=10
    ).json()
    assert got["status"] == "admitted"
    assert got["decided_at"] is not None
    assert got["confirm_url"] == ""
    admittance = requests.get(f"{live.url}/api/v1/credit/admittance", headers=headers, timeout=10)
    assert admittance.json()["admitted"] is True
    assert "score" not in json.dumps(got)
