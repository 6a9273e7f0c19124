"""Consents (versions, re-consent, has_consent), phone codes over a real SMS relay, tokens, and
the channel-identity plumbing the credit app's channel log-in uses."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re

import pytest

from xinyue.core import clock
from xinyue.core.errors import PermissionDenied
from xinyue.readers.errors import (
    ChannelIdentityTaken,
    PhoneCodeInvalid,
    SmsTooFrequent,
    SmsVerificationOff,
)
from xinyue.readers.models import PhoneVerification, ReaderToken
from xinyue.readers.selectors import has_consent, reader_by_channel_identity
from xinyue.readers.selectors.consents import consent_states
from xinyue.readers.services import bind_channel_identity
from xinyue.readers.services.consents import grant_consent, publish_consent_text, withdraw_consent
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.phone import send_phone_code, verify_phone_code
from xinyue.readers.services.tokens import authenticate_reader_token, issue_reader_token


@pytest.mark.django_db
class TestConsents:
    def test_has_consent_follows_grant_and_withdraw(self, alice, alice_actor):
        assert has_consent(reader=alice, purpose="id_number") is True
        assert has_consent(reader=alice, purpose="credit_check") is False
        grant_consent(actor=alice_actor, reader=alice, purpose="credit_check")
        assert has_consent(reader=alice, purpose="credit_check") is True
        again = grant_consent(actor=alice_actor, reader=alice, purpose="credit_check")
        assert alice.consents.filter(purpose="credit_check").count() == 1
        assert again.version == 1
        withdraw_consent(actor=alice_actor, reader=alice, purpose="credit_check")
        assert has_consent(reader=alice, purpose="credit_check") is False
        assert has_consent(reader=alice, purpose="nonsense") is False

    def test_only_the_reader_grants_their_consent(self, alice, bob):
        with pytest.raises(PermissionDenied):
            grant_consent(actor=reader_actor(bob), reader=alice, purpose="credit_check")
        assert not alice.consents.filter(purpose="credit_check").exists()

    def test_new_text_version_with_reconsent(self, alice, alice_actor, operator):
        grant_consent(actor=alice_actor, reader=alice, purpose="share_borrowing")
        publish_consent_text(
            actor=operator, purpose="share_borrowing", title="v2", body="typo fixed"
        )
        assert has_consent(reader=alice, purpose="share_borrowing") is True
        publish_consent_text(
            actor=operator,
            purpose="share_borrowing",
            title="v3",
            body="new recipient",
            recipient="某征信机构",
            requires_reconsent=True,
        )
        assert has_consent(reader=alice, purpose="share_borrowing") is False
        state = next(s for s in consent_states(reader=alice) if s.purpose == "share_borrowing")
        assert (state.granted, state.needs_renewal, state.current_version) == (False, True, 3)
        consent = grant_consent(actor=alice_actor, reader=alice, purpose="share_borrowing")
        assert consent.version == 3
        assert has_consent(reader=alice, purpose="share_borrowing") is True
        assert list(
            alice.consents.filter(purpose="share_borrowing").values_list("version", "ended_reason")
        ) == [
            (1, "superseded"),
            (3, ""),
        ]

    def test_only_the_operator_publishes_texts(self, hz_admin):
        with pytest.raises(PermissionDenied):
            publish_consent_text(actor=hz_admin, purpose="credit_check", title="t", body="b")


@pytest.fixture
def relay(settings, loopback_server):
    """An SMS relay on a loopback port; yields what it received as (headers, body) pairs."""
    received: list[tuple[dict[str, str], bytes]] = []

    def answer(body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        received.append((headers, body))
        return 200, b"ok"

    server = loopback_server(answer, path="/sms")
    settings.XINYUE_SMS_VERIFICATION = True
    settings.XINYUE_SMS_SENDER = "xinyue.readers.sms.HttpSender"
    settings.XINYUE_SMS_HTTP_URL = server.url
    settings.XINYUE_SMS_HTTP_SECRET = "relay-secret"
    return received


@pytest.mark.django_db
class TestPhone:
    def test_off(self, alice, alice_actor):
        with pytest.raises(SmsVerificationOff):
            send_phone_code(actor=alice_actor, reader=alice)

    def test_code_through_a_real_http_relay(
        self, alice, alice_actor, relay, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            send_phone_code(actor=alice_actor, reader=alice)
        ((headers, body),) = relay
        expected = hmac.new(b"relay-secret", body, hashlib.sha256).hexdigest()
        assert headers["X-Xinyue-Signature"] == f"sha256={expected}"
        message = json.loads(body)
        assert message["phone"] == "13812345678"
        code = re.search(r"验证码是 (\d{6})", message["text"]).group(1)
        assert code not in PhoneVerification.objects.get().code_hash
        with pytest.raises(SmsTooFrequent):
            send_phone_code(actor=alice_actor, reader=alice)
        verify_phone_code(actor=alice_actor, reader=alice, code=code)
        alice.refresh_from_db()
        assert alice.phone_verified_at is not None

    def test_five_wrong_codes_spend_it(
        self, alice, alice_actor, relay, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            send_phone_code(actor=alice_actor, reader=alice)
        code = re.search(r"验证码是 (\d{6})", json.loads(relay[0][1])["text"]).group(1)
        wrong = "000000" if code != "000000" else "111111"
        for left in (4, 3, 2, 1, 0):
            with pytest.raises(PhoneCodeInvalid) as exc:
                verify_phone_code(actor=alice_actor, reader=alice, code=wrong)
            assert exc.value.detail["attempts_left"] == left
        with pytest.raises(PhoneCodeInvalid) as exc:
            verify_phone_code(actor=alice_actor, reader=alice, code=code)
        assert exc.value.fields == {"code": "验证码已失效，请重新获取"}
        alice.refresh_from_db()
        assert alice.phone_verified_at is None

    def test_api(self, client, alice, relay, django_capture_on_commit_callbacks):
        _row, token = issue_reader_token(reader=alice)
        auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post("/api/v1/readers/me/phone/code", **auth)
        assert response.status_code == 202
        assert response.json() == {"sent": True, "expires_in_seconds": 600}
        code = re.search(r"验证码是 (\d{6})", json.loads(relay[0][1])["text"]).group(1)
        response = client.post(
            "/api/v1/readers/me/phone/verify",
            data={"code": code},
            content_type="application/json",
            **auth,
        )
        assert response.status_code == 200
        assert response.json()["phone_verified"] is True


@pytest.mark.django_db
class TestTokens:
    def test_expired_and_revoked_tokens_fail(self, alice):
        row, token = issue_reader_token(reader=alice)
        actor = authenticate_reader_token(token)
        assert (actor.kind.value, actor.reader_id, actor.channel.value) == (
            "reader",
            alice.pk,
            "api",
        )
        assert authenticate_reader_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
        ReaderToken.objects.filter(pk=row.pk).update(
            expires_at=clock.now() - dt.timedelta(seconds=1)
        )
        assert authenticate_reader_token(token) is None
        assert authenticate_reader_token("xy_abc_def") is None
        assert authenticate_reader_token("garbage") is None

    def test_a_token_request_reads_only_the_readers_standing_when_asked(
        self, alice, bob, rf, django_assert_num_queries
    ):
        from xinyue.readers.models import Reader
        from xinyue.readers.selectors import reader_from_request

        request = rf.post("/api/v1/orders")
        request.auth = authenticate_reader_token(issue_reader_token(reader=alice)[1])
        with django_assert_num_queries(1):
            reader = reader_from_request(request, standing_only=True)
        assert (reader.pk, reader.user_id, reader.is_active, reader.deleted_at) == (
            alice.pk,
            alice.user_id,
            True,
            None,
        )
        assert {"name_ct", "phone_ct", "id_number_ct"} <= reader.get_deferred_fields()
        with django_assert_num_queries(1):  # anything else still loads, when touched
            assert reader.id_number_index == alice.id_number_index
        stamp = clock.now()
        Reader.objects.filter(pk=alice.pk).update(deleted_at=stamp)
        assert reader_from_request(request, standing_only=True).deleted_at == stamp
        Reader.objects.filter(pk=alice.pk).update(is_active=False)
        assert reader_from_request(request, standing_only=True) is None
        assert reader_from_request(request) is None
        request.auth = authenticate_reader_token(issue_reader_token(reader=bob)[1])
        assert reader_from_request(request, standing_only=True).pk == bob.pk


@pytest.mark.django_db
class TestChannelIdentities:
    def test_bind_and_find(self, alice, bob):
        bind_channel_identity(reader=alice, provider="sandbox", external_id="2088000000000001")
        bind_channel_identity(reader=alice, provider="sandbox", external_id="2088000000000001")
        assert (
            reader_by_channel_identity(provider="sandbox", external_id="2088000000000001") == alice
        )
        assert reader_by_channel_identity(provider="zhima", external_id="2088000000000001") is None
        with pytest.raises(ChannelIdentityTaken):
            bind_channel_identity(reader=bob, provider="sandbox", external_id="2088000000000001")
        bind_channel_identity(reader=alice, provider="sandbox", external_id="2088000000000002")
        assert list(alice.channel_identities.values_list("external_id", flat=True)) == [
            "2088000000000002"
        ]

    def test_login_reader_starts_a_session(self, alice, rf):
        from django.contrib.auth.models import AnonymousUser
        from django.contrib.sessions.backends.db import SessionStore

        from xinyue.readers.selectors import reader_from_request
        from xinyue.readers.services import login_reader

        request = rf.get("/")
        request.user = AnonymousUser()
        request.session = SessionStore()
        request.session["shelf"] = [1, 2]
        login_reader(request, alice)
        assert reader_from_request(request) == alice
        assert request.session["shelf"] == [1, 2]
