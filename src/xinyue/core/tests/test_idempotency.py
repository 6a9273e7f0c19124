"""``Idempotency-Key``: a retried POST returns the first response and changes nothing more."""

from __future__ import annotations

import pytest

from xinyue.libraries.models import WebhookSubscription

URL = "/api/v1/libraries/330100/webhooks"


def post(client, body, key):
    return client.post(URL, body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


@pytest.mark.django_db
def test_replay_returns_the_first_response_without_a_second_effect(hz_key_client):
    body = {"url": "https://ils.example.org/hooks"}
    first = post(hz_key_client, body, "k-1")
    second = post(hz_key_client, body, "k-1")
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert WebhookSubscription.objects.count() == 1


@pytest.mark.django_db
def test_same_key_with_another_body_is_refused(hz_key_client):
    post(hz_key_client, {"url": "https://ils.example.org/a"}, "k-2")
    other = post(hz_key_client, {"url": "https://ils.example.org/b"}, "k-2")
    assert other.status_code == 422
    assert other.json()["code"] == "idempotency_key_reused"
    assert list(WebhookSubscription.objects.values_list("url", flat=True)) == [
        "https://ils.example.org/a"
    ]


@pytest.mark.django_db
def test_keys_are_scoped_to_the_caller(hz_key_client, client, operator_user):
    from xinyue.accounts.services import create_api_key
    from xinyue.core.actors import SYSTEM

    _key, token = create_api_key(actor=SYSTEM, name="platform", scope="platform")
    post(hz_key_client, {"url": "https://ils.example.org/a"}, "shared")
    response = client.post(
        URL,
        {"url": "https://ils.example.org/a"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="shared",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert WebhookSubscription.objects.count() == 2


@pytest.mark.django_db
def test_a_refused_request_is_replayed_as_refused(client, nb_admin_user):
    client.force_login(nb_admin_user)
    first = client.post(
        URL,
        {"url": "https://x.example/"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    again = client.post(
        URL,
        {"url": "https://x.example/"},
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    assert first.status_code == again.status_code == 403
    assert WebhookSubscription.objects.count() == 0


@pytest.mark.django_db
def test_a_bearer_token_is_never_kept_by_the_idempotency_store(client, zhejiang):
    from xinyue.core.models import IdempotencyRecord

    reader = {"id_number": "33010619900101123X", "name": "测试", "phone": "13800000000"}
    client.post(
        "/api/v1/auth/register",
        {**reader, "password": "Reading-2026"},
        content_type="application/json",
    )
    login = {"id_number": reader["id_number"], "password": "Reading-2026"}
    first = client.post(
        "/api/v1/auth/token", login, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    second = client.post(
        "/api/v1/auth/token", login, content_type="application/json", HTTP_IDEMPOTENCY_KEY="t1"
    )
    assert first.status_code == second.status_code == 200
    assert first["Cache-Control"] == "no-store"
    assert "Idempotent-Replayed" not in second
    assert first.json()["token"] != second.json()["token"]
    assert not IdempotencyRecord.objects.filter(key="t1").exists()


@pytest.mark.django_db
def test_anonymous_keys_are_scoped_per_client_address(client, zhejiang):
    reader = {
        "id_number": "33010619900101123X",
        "name": "测试",
        "phone": "13800000000",
        "password": "Reading-2026",
    }

    def register(address):
        return client.post(
            "/api/v1/auth/register",
            reader,
            content_type="application/json",
            HTTP_IDEMPOTENCY_KEY="signup-1",
            REMOTE_ADDR=address,
        )

    first = register("203.0.113.1")
    assert first.status_code == 201
    retry = register("203.0.113.1")
    assert retry["Idempotent-Replayed"] == "true"
    assert retry.json() == first.json()
    other = register("198.51.100.2")  # another caller guessing the key gets no replay
    assert "Idempotent-Replayed" not in other
    assert other.status_code == 409
    assert other.json()["code"] == "id_number_taken"


@pytest.mark.django_db
def test_a_key_in_progress_answers_409_and_an_expired_key_runs_again(hz_key_client, settings):
    """The claim is one statement: a live record in progress keeps the key (409, nothing runs);
    a record past its time to live is taken over (the request runs, the new answer is kept)."""
    import datetime as dt

    from xinyue.core import clock
    from xinyue.core.models import IdempotencyRecord

    body = {"url": "https://ils.example.org/c"}
    first = post(hz_key_client, body, "k-3")
    assert first.status_code == 201
    record = IdempotencyRecord.objects.get(key="k-3")
    IdempotencyRecord.objects.filter(pk=record.pk).update(state="in_progress")
    busy = post(hz_key_client, body, "k-3")
    assert (busy.status_code, busy.json()["code"]) == (409, "idempotency_key_in_use")
    assert WebhookSubscription.objects.count() == 1

    aged = clock.now() - dt.timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS, minutes=1)
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=aged)
    again = post(hz_key_client, body, "k-3")
    assert again.status_code == 201  # the endpoint ran again: a second subscription
    assert WebhookSubscription.objects.count() == 2
    assert "Idempotent-Replayed" not in again
    kept = IdempotencyRecord.objects.get(key="k-3")
    assert (kept.pk, kept.state, kept.status_code) == (record.pk, "done", again.status_code)
    assert kept.created_at > aged
    assert bytes(kept.response_body) == again.content
