"""Consent titles are translated on English pages and in the API; the texts stay as consented."""

from __future__ import annotations

import pytest
from django.test import Client

from xinyue.readers.tests.identities import ALICE, ALICE_ID

TITLES = {
    "id_number": (
        "处理身份证号（敏感个人信息）的单独同意",
        "Separate consent to processing my ID number (sensitive personal information)",
    ),
    "credit_check": ("信用评估授权", "Credit check authorization"),
    "share_borrowing": (
        "向信用服务机构提供借阅记录的单独同意",
        "Separate consent to sharing my borrowing records with credit agencies",
    ),
}


def logged_in(language: str) -> Client:
    client = Client()
    client.post("/i18n/setlang/", {"language": language, "next": "/"})
    client.post("/reader/login/", {"id_number": ALICE_ID, "password": ALICE["password"]})
    return client


@pytest.mark.django_db
def test_the_account_and_consent_pages_show_english_titles(alice):
    client = logged_in("en")
    account = client.get("/account/").content.decode()
    for chinese, english in TITLES.values():
        assert f">{english}</a>" in account
        assert chinese not in account
    page = client.get("/account/consents/credit_check/").content.decode()
    assert "<h1>Credit check authorization</h1>" in page
    assert "<title>Credit check authorization ·" in page
    assert "为判断您能否免押金办理信用读者证" in page  # the body is the text as consented


@pytest.mark.django_db
def test_chinese_stays_the_default_and_the_api_follows_the_language(client, alice):
    account = logged_in("zh-hans").get("/account/").content.decode()
    for chinese, _english in TITLES.values():
        assert f">{chinese}</a>" in account
    token = client.post(
        "/api/v1/auth/token",
        {"id_number": ALICE_ID, "password": ALICE["password"]},
        content_type="application/json",
    ).json()["token"]
    states = client.get(
        "/api/v1/readers/me/consents",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_ACCEPT_LANGUAGE="en",
    ).json()
    assert {s["purpose"]: s["title"] for s in states} == {p: t[1] for p, t in TITLES.items()}
