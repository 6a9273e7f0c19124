"""Anyone who knows an ID number can lock its reader out by failing to log in (issue 7, item 10):
the lock stays, but the reader is told by SMS and can lift it with the code in that message."""

from __future__ import annotations

import json
import re

import pytest
from django.core.cache import caches
from django.test import Client

from xinyue.core.models import AuditEntry
from xinyue.readers.models import SmsOutboxMessage
from xinyue.readers.tests.identities import ALICE


@pytest.fixture(autouse=True)
def fresh_shared_cache():
    caches["shared"].clear()
    yield
    caches["shared"].clear()


def login(client: Client, password: str, address: str = "203.0.113.1"):
    body = {"id_number": ALICE["id_number"], "password": password}
    return client.post(
        "/api/v1/auth/token", json.dumps(body), "application/json", REMOTE_ADDR=address
    )


def unlock(client: Client, code: str, address: str = "198.51.100.7"):
    body = {"id_number": ALICE["id_number"], "code": code}
    return client.post(
        "/api/v1/auth/unlock", json.dumps(body), "application/json", REMOTE_ADDR=address
    )


@pytest.mark.django_db(transaction=True)
def test_a_locked_reader_is_told_by_sms_and_unlocks_with_the_code(alice, client):
    for n in range(5):  # an attacker who knows the number, from several addresses
        login(client, "wrong-password", address=f"203.0.113.{n}")
    assert login(client, ALICE["password"]).status_code == 429  # locked, even for the owner

    messages = list(SmsOutboxMessage.objects.values_list("phone_masked", "text"))
    assert len(messages) == 1
    phone, text = messages[0]
    assert phone == "138****5678"
    assert "暂停登录15分钟" in text
    code = re.search(r"验证码 (\d{6}) ", text).group(1)
    assert AuditEntry.objects.filter(action="reader.login_locked").count() == 1

    wrong = unlock(client, "000000" if code != "000000" else "111111")
    assert wrong.status_code == 422
    assert wrong.json()["code"] == "unlock_code_invalid"
    assert login(client, ALICE["password"]).status_code == 429  # still locked

    assert unlock(client, code).status_code == 204
    assert AuditEntry.objects.filter(action="reader.login_unlocked").count() == 1
    assert login(client, ALICE["password"]).status_code == 200
    assert unlock(client, code).status_code == 422  # a code lifts one lock once


@pytest.mark.django_db(transaction=True)
def test_five_wrong_codes_spend_the_unlock_code(alice, client):
    for n in range(5):
        login(client, "wrong-password", address=f"203.0.113.{n}")
    code = re.search(r"验证码 (\d{6}) ", SmsOutboxMessage.objects.get().text).group(1)
    wrong = "000000" if code != "000000" else "111111"
    for n in range(5):
        assert unlock(client, wrong, address=f"198.51.100.{n}").status_code == 422
    assert unlock(client, code).status_code == 422
    assert login(client, ALICE["password"]).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_locking_an_unknown_number_sends_nothing(client, db):
    for n in range(5):
        login(client, "wrong-password", address=f"203.0.113.{n}")
    assert SmsOutboxMessage.objects.count() == 0
