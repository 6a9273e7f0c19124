"""Outbound URLs never reach the inside (issue 7, item 4): a library admin key registered webhooks
to loopback, link-local, private and oddly spelled addresses, and a REST card-check URL on
loopback that then received a reader's card password. Refused when saved, and again when we
connect (after resolving the name); the webhook page is no port scanner; only the operator can
allow a library's own network. No test delivers anywhere but to a loopback listener that records
whether it was contacted."""

from __future__ import annotations

import socket
import threading

import pytest
from conftest import allow_loopback
from django.db import transaction

from xinyue.accounts.services import create_api_key
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import Library, WebhookDelivery, WebhookSubscription
from xinyue.libraries.services import (
    DELIVERY_FAILED,
    attempt_webhook_delivery,
    publish_library_event,
    update_library,
)

pytestmark = pytest.mark.django_db

INSIDE = [
    "http://127.0.0.1:{port}/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/hook",
    "http://192.168.1.1:8080/",
    "http://[::1]:{port}/",
    "http://0x7f000001:{port}/",
    "http://2130706433:{port}/",
    "http://[::ffff:127.0.0.1]:{port}/",
    "http://localhost:{port}/",
    "http://LOCALHOST.:{port}/",
    "http://0.0.0.0:{port}/",
    "http://224.0.0.1/",
    "http://240.0.0.1/",
    "http://127.1:{port}/",
]


class Listener:
    """A loopback TCP listener that only records whether anyone connected."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.contacts = 0
        self.closed = False
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while not self.closed:
            try:
                conn, _addr = self.sock.accept()
            except OSError:
                return
            self.contacts += 1
            try:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.1 500 Nope\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except OSError:
                pass
            conn.close()

    def close(self) -> None:
        self.closed = True
        self.sock.close()


@pytest.fixture
def listener():
    made = Listener()
    yield made
    made.close()


@pytest.fixture
def admin_key(hangzhou):
    _key, token = create_api_key(
        actor=SYSTEM, name="HZ ILS", scope="library", library=hangzhou, role="admin"
    )
    return {"Authorization": f"Bearer {token}"}


def test_inside_webhook_urls_are_refused_when_saved(client, hangzhou, admin_key, listener):
    for template in INSIDE:
        url = template.format(port=listener.port)
        answer = client.post(
            "/api/v1/libraries/330100/webhooks",
            {"url": url},
            content_type="application/json",
            headers=admin_key,
        )
        assert answer.status_code == 422, (url, answer.content)
        assert list(answer.json()["detail"]["fields"]) == ["url"]
    assert not WebhookSubscription.objects.exists()
    assert listener.contacts == 0


def test_inside_card_check_urls_are_refused_when_saved(client, hangzhou, admin_key, listener):
    before = Library.objects.get(pk=hangzhou.pk).settings
    for template in INSIDE:
        url = template.format(port=listener.port)
        answer = client.patch(
            "/api/v1/libraries/330100",
            {"settings": {"rest_verify_url": url}},
            content_type="application/json",
            headers=admin_key,
        )
        assert answer.status_code == 422, (url, answer.content)
        assert list(answer.json()["detail"]["fields"]) == ["rest_verify_url"]
    assert Library.objects.get(pk=hangzhou.pk).settings == before
    assert listener.contacts == 0


def test_only_the_operator_allows_a_librarys_network_and_it_is_audited(
    client, hangzhou, admin_key, operator_user
):
    mine = client.patch(
        "/api/v1/libraries/330100",
        {"settings": {"outbound_allow_networks": ["10.20.0.0/16"]}},
        content_type="application/json",
        headers=admin_key,
    )
    assert mine.status_code == 403
    assert "outbound_allow_networks" not in Library.objects.get(pk=hangzhou.pk).settings
    client.force_login(operator_user)
    bad = client.patch(
        "/api/v1/libraries/330100",
        {"settings": {"outbound_allow_networks": ["64:ff9b::/96"]}},
        content_type="application/json",
    )
    assert bad.status_code == 422
    done = client.patch(
        "/api/v1/libraries/330100",
        {"settings": {"outbound_allow_networks": ["10.20.0.0/16"]}},
        content_type="application/json",
    )
    assert done.status_code == 200, done.content
    entry = AuditEntry.objects.get(action="library.outbound_allowed")
    assert entry.detail == {"before": [], "after": ["10.20.0.0/16"]}
    assert entry.actor_ref == f"user:{operator_user.pk}"
    # The library's admin may now point its card check into its own network, and only there.
    client.logout()
    ok = client.patch(
        "/api/v1/libraries/330100",
        {"settings": {"rest_verify_url": "http://10.20.3.4:8080/verify"}},
        content_type="application/json",
        headers=admin_key,
    )
    assert ok.status_code == 200
    other = client.patch(
        "/api/v1/libraries/330100",
        {"settings": {"rest_verify_url": "http://10.30.3.4:8080/verify"}},
        content_type="application/json",
        headers=admin_key,
    )
    assert other.status_code == 422


def _deliver_all(library: Library) -> list[WebhookDelivery]:
    with transaction.atomic():
        deliveries = publish_library_event(library=library, event_type="card.issued", data={})
    for delivery in deliveries:
        attempt_webhook_delivery(delivery_id=delivery.pk)
    return [WebhookDelivery.objects.get(pk=d.pk) for d in deliveries]


def test_the_address_is_checked_again_when_connecting(hangzhou, listener):
    """Rows that got in anyway (saved before this check, or under an allow-list since removed,
    or a name that resolves inside only later) are refused at connect time: never contacted."""
    allow_loopback(hangzhou)
    for url in (
        f"http://127.0.0.1:{listener.port}/hook",
        f"http://localhost:{listener.port}/hook",
        f"http://0x7f000001:{listener.port}/hook",
    ):
        WebhookSubscription.objects.create(library=hangzhou, url=url, secret="s")
    update_library(actor=SYSTEM, library=hangzhou, settings_values={"outbound_allow_networks": []})
    hangzhou.refresh_from_db()
    deliveries = _deliver_all(hangzhou)
    assert len(deliveries) == 3
    assert listener.contacts == 0
    assert {d.last_error for d in deliveries} == {DELIVERY_FAILED}


def test_the_webhook_page_is_no_port_scanner(client, hangzhou, listener, operator_user):
    """A closed port and an open one that answers look the same on the page."""
    allow_loopback(hangzhou)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    for port in (listener.port, closed_port):
        WebhookSubscription.objects.create(
            library=hangzhou, url=f"http://127.0.0.1:{port}/hook", secret="s"
        )
    deliveries = _deliver_all(hangzhou)
    assert listener.contacts == 1  # allowed for this library: the open port was reached
    assert [d.last_error for d in deliveries] == [DELIVERY_FAILED, DELIVERY_FAILED]
    client.force_login(operator_user)
    page = client.get("/console/libraries/330100/webhooks/").content.decode()
    assert page.count(DELIVERY_FAILED) == 2
    for leak in ("HTTP 500", "ConnectionError", "Refused", "Timeout"):
        assert leak not in page


def test_the_card_password_never_reaches_an_inside_address(hangzhou, listener):
    from xinyue.cards.errors import LinkCheckUnavailable
    from xinyue.cards.services.linking import check_with_rest

    allow_loopback(hangzhou)
    update_library(
        actor=SYSTEM,
        library=hangzhou,
        settings_values={
            "link_card_check": "rest",
            "rest_verify_url": f"http://127.0.0.1:{listener.port}/verify",
            "rest_verify_secret": "shared",
        },
    )
    update_library(actor=SYSTEM, library=hangzhou, settings_values={"outbound_allow_networks": []})
    hangzhou.refresh_from_db()
    with pytest.raises(LinkCheckUnavailable):
        check_with_rest(library=hangzhou, number="00012345", password="card-pass-1")
    assert listener.contacts == 0
