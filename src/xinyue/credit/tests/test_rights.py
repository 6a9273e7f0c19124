"""The reader's rights reach the credit data: export (no score), deletion blocked by an open
credit order, erasure of the provider link."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.core import clock
from xinyue.credit.models import CreditAuthorization, CreditOrder, ProviderNotification
from xinyue.readers.errors import DeletionBlocked
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.rights import delete_reader_account, export_reader_data


@pytest.fixture
def decided(reader):
    now = clock.now()
    authorization = CreditAuthorization.objects.create(
        reader=reader,
        provider="sandbox",
        request_no="XYA-9",
        threshold=550,
        status="admitted",
        decided_at=now,
        decided_via="notification",
        expires_at=now + dt.timedelta(days=30),
        provider_user_id="2088000000000009",
        consent_version=1,
    )
    ProviderNotification.objects.create(
        provider="sandbox",
        notify_id="n-9",
        kind="admittance",
        reference="XYA-9",
        payload={"user_id": "2088000000000009", "is_admittance": "Y"},
    )
    return authorization


@pytest.mark.django_db
def test_the_export_has_the_decisions(reader, decided):
    data = export_reader_data(actor=reader_actor(reader), reader=reader)
    [entry] = data["credit"]["authorizations"]
    assert (entry["provider"], entry["status"], entry["threshold"]) == ("sandbox", "admitted", 550)
    assert "score" not in str(data["credit"])
    assert data["credit"]["credit_orders"] == []


@pytest.mark.django_db
def test_an_open_credit_order_blocks_deletion_then_erasure_drops_the_provider_link(reader, decided):
    order = CreditOrder.objects.create(
        out_order_no="XYC-9",
        reference="order:9",
        reader=reader,
        provider="sandbox",
        authorization=decided,
        goods_name="书",
        deposit_fen=100,
        borrowed_at=clock.now(),
        due_at=clock.now() + dt.timedelta(days=30),
        state="borrowed",
    )
    with pytest.raises(DeletionBlocked) as blocked:
        delete_reader_account(actor=reader_actor(reader), reader=reader)
    assert "1 笔信用借还订单尚未完结" in blocked.value.message
    CreditOrder.objects.filter(pk=order.pk).update(state="returned")
    delete_reader_account(actor=reader_actor(reader), reader=reader)
    decided.refresh_from_db()
    assert (decided.status, decided.threshold, decided.provider_user_id) == ("admitted", 550, "")
    assert ProviderNotification.objects.get().payload == {}
