"""A slow provider never holds the site (issue 7, item 6): with the sandbox told to time out,
each authorization once took 15 s and health 14 s. Now the request answers at once with
"pending", the page polls and goes on to the provider when a background task has opened the
authorization; health answers within a second meanwhile. Driven over HTTP (live server)."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import requests

from xinyue.core.testing import run_scheduled_tasks
from xinyue.credit.models import CreditAuthorization
from xinyue.credit.tests.conftest import READERS, make_reader

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def slow_sandbox(live, settings):
    settings.CREDIT_INTERACTIVE_TIMEOUT_SECONDS = 0.5
    settings.CREDIT_SANDBOX_TIMEOUT_DELAY_SECONDS = 5.0
    live.control(
        "faults", {"kind": "timeout", "method": "zhima.credit.admittance.initialize", "times": 1}
    )
    return live


def _token(live) -> dict[str, str]:
    login = requests.post(
        f"{live.url}/api/v1/auth/token",
        json={"id_number": READERS["lin"]["id_number"], "password": READERS["lin"]["password"]},
        timeout=10,
    )
    return {"Authorization": f"Bearer {login.json()['token']}"}


def test_the_api_answers_pending_at_once_and_health_stays_fast(slow_sandbox):
    live = slow_sandbox
    make_reader()
    headers = _token(live)
    health_times: list[float] = []

    def probe_health() -> None:
        time.sleep(0.2)  # while the authorization request waits on the provider
        began = time.monotonic()
        assert requests.get(f"{live.url}/api/v1/health", timeout=5).status_code == 200
        health_times.append(time.monotonic() - began)

    prober = threading.Thread(target=probe_health)
    prober.start()
    began = time.monotonic()
    created = requests.post(
        f"{live.url}/api/v1/credit/authorizations",
        json={"provider": "sandbox"},
        headers=headers,
        timeout=10,
    )
    elapsed = time.monotonic() - began
    prober.join()
    assert created.status_code == 201, created.text
    body = created.json()
    assert (body["status"], body["confirm_url"]) == ("pending", "")
    assert elapsed < 2.5, elapsed  # a 0.5 s wait on the provider, not its 5 s
    assert len(health_times) == 1
    assert health_times[0] < 1.0

    assert run_scheduled_tasks(after=dt.timedelta(minutes=1)) >= 1  # the background half
    got = requests.get(
        f"{live.url}/api/v1/credit/authorizations/{body['id']}", headers=headers, timeout=10
    ).json()
    assert got["status"] == "pending"
    assert got["confirm_url"].startswith(f"{live.url}/sandbox/zhima/gateway.do?")
    assert CreditAuthorization.objects.count() == 1


def test_the_page_waits_polls_and_goes_on_or_is_cancelled(slow_sandbox):
    live = slow_sandbox
    make_reader()
    session = requests.Session()
    session.get(f"{live.url}/reader/login/")
    session.post(
        f"{live.url}/reader/login/",
        data={
            "id_number": READERS["lin"]["id_number"],
            "password": READERS["lin"]["password"],
            "csrfmiddlewaretoken": session.cookies["csrftoken"],
        },
    )
    page = session.get(f"{live.url}/credit/")
    began = time.monotonic()
    started = session.post(
        f"{live.url}/credit/",
        data={"provider": "sandbox", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert time.monotonic() - began < 2.5
    assert page.status_code == 200
    authorization = CreditAuthorization.objects.get()
    waiting = f"/credit/authorizations/{authorization.pk}/?next=confirm"
    assert started.headers["Location"] == waiting
    shown = session.get(f"{live.url}{waiting}").text
    assert 'id="credit-connecting"' in shown
    assert f"/credit/authorizations/{authorization.pk}/status/?next=confirm" in shown
    status = f"{live.url}/credit/authorizations/{authorization.pk}/status/?next=confirm"
    assert "HX-Redirect" not in session.get(status, headers={"HX-Request": "true"}).headers

    run_scheduled_tasks(after=dt.timedelta(minutes=1))
    ready = session.get(status, headers={"HX-Request": "true"})
    authorization.refresh_from_db()
    assert ready.headers["HX-Redirect"] == authorization.confirm_url

    # The reader may give up and start again: a new authorization, the old one failed.
    cancelled = session.post(
        f"{live.url}/credit/authorizations/{authorization.pk}/cancel/",
        data={"csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert cancelled.headers["Location"] == "/credit/"
    authorization.refresh_from_db()
    assert (authorization.status, authorization.failure_code) == ("failed", "cancelled")
    again = session.post(
        f"{live.url}/credit/",
        data={"provider": "sandbox", "csrfmiddlewaretoken": session.cookies["csrftoken"]},
        allow_redirects=False,
    )
    assert again.status_code == 302
    assert CreditAuthorization.objects.count() == 2
