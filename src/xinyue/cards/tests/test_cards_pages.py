"""Reader card pages: choose a library and get the card, refusal with the ways forward, the card
with its QR code, linking, the account page's card list."""

from __future__ import annotations

import re

import pytest

from xinyue.cards.models import Card, CardLinkRequest, ManualReview
from xinyue.cards.services.issuing import approve_manual_review, issue_credit_card
from xinyue.readers.services.consents import grant_consent, withdraw_consent
from xinyue.readers.services.identity import reader_actor

pytestmark = pytest.mark.django_db


@pytest.fixture
def reader_page(client, alice):
    client.force_login(alice.user)
    return client


def test_card_pages_need_a_logged_in_reader(client, zhejiang):
    response = client.get("/cards/new/")
    assert response.status_code == 302
    assert response["Location"] == "/reader/login/?next=/cards/new/"


def test_choose_a_city_and_its_libraries(reader_page):
    page = reader_page.get("/cards/new/?city=330200").content.decode()
    assert 'href="?city=330200" class="current"' in page
    assert 'data-code="330200"' in page  # 宁波图书馆
    assert 'data-code="330100"' not in page
    assert 'data-code="330000"' in page  # the provincial library is always offered
    assert "尚未完成信用授权，或授权结果已过期" in page


def test_refused_reader_sees_the_reason_and_every_way_forward(reader_page, alice, hangzhou):
    response = reader_page.post("/cards/new/", {"library_code": "330100"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "暂不能免押金办证" in page
    assert "尚未完成信用授权，或授权结果已过期" in page
    codes = re.findall(r'class="alternative" data-code="(\w+)"', page)
    assert codes == ["authorize", "link_card", "manual_review", "deposit_card"]
    assert 'action="/cards/review/"' in page
    assert "/cards/link/?library=330100" in page
    assert Card.objects.count() == 0

    asked = reader_page.post(
        "/cards/review/", {"library_code": "330100", "message": "请审核"}, follow=True
    )
    assert "已向 杭州图书馆 提交人工审核申请" in asked.content.decode()
    review = ManualReview.objects.get()
    assert (review.reader_id, review.status, review.message) == (alice.pk, "pending", "请审核")


def test_card_page_shows_the_number_and_a_qr_code(reader_page, alice, hangzhou, hz_desk):
    review = ManualReview.objects.create(reader=alice, library=hangzhou)
    approve_manual_review(actor=hz_desk, review=review)
    response = reader_page.post("/cards/new/", {"library_code": "330100"}, follow=True)
    assert response.redirect_chain == [("/cards/330100/", 302)]
    page = response.content.decode()
    assert "办证成功：33010000000001" in page
    assert '<p class="card-number" id="card-number">33010000000001</p>' in page
    assert '<svg viewBox="0 0 ' in page
    assert 'class="card-qr"' in page
    assert "style=" not in page.split("<body", 1)[1]
    assert "<script>" not in page  # no inline script (htmx comes from /static/)
    assert "免押金" in page
    account = reader_page.get("/account/").content.decode()
    assert 'href="/cards/330100/"' in account
    mine = reader_page.get("/cards/").content.decode()
    assert "33010000000001" in mine


def test_someone_elses_card_page_is_not_found(reader_page, bob, hangzhou, hz_desk):
    from xinyue.cards.services.issuing import issue_deposit_card

    issue_deposit_card(actor=hz_desk, reader=bob, library=hangzhou, deposit_fen=100)
    assert reader_page.get("/cards/330100/").status_code == 404


def test_link_page_staff_check(reader_page, alice, hangzhou):
    page = reader_page.get("/cards/link/?library=330100").content.decode()
    assert '<option value="330100" selected>' in page
    response = reader_page.post(
        "/cards/link/", {"library_code": "330100", "card_number": "HZ-1", "password": ""}
    )
    assert response.status_code == 302
    assert response["Location"] == "/cards/"
    assert CardLinkRequest.objects.get().status == "pending"
    invalid = reader_page.post(
        "/cards/link/", {"library_code": "330100", "card_number": "卡号", "password": ""}
    )
    assert invalid.status_code == 422
    assert "读者证号只能包含字母、数字和连字符，最长 40 位" in invalid.content.decode()


def test_the_deposit_alternative_shows_where_and_how_much(reader_page, alice, hangzhou):
    from xinyue.core.actors import SYSTEM
    from xinyue.libraries.services import update_library

    update_library(
        actor=SYSTEM,
        library=hangzhou,
        opening_hours="周二至周日 9:00–21:00",
        settings_values={"deposit_fen": 10_000},
    )
    page = reader_page.post("/cards/new/", {"library_code": "330100"}).content.decode()
    deposit = page[page.index('data-code="deposit_card"') :]
    assert '<a href="/libraries/330100/">杭州图书馆</a>' in deposit
    assert '<dd class="hours">周二至周日 9:00–21:00</dd>' in deposit
    assert '<dd class="deposit">¥100.00</dd>' in deposit
    assert '<dd class="address">暂无，请向馆内咨询</dd>' in deposit


def test_after_an_approved_review_the_page_offers_the_card_not_the_refusal(
    reader_page, alice, hangzhou, hz_desk
):
    before = reader_page.get("/cards/new/").content.decode()
    assert "尚未完成信用授权，或授权结果已过期" in before
    review = ManualReview.objects.create(reader=alice, library=hangzhou)
    approve_manual_review(actor=hz_desk, review=review)
    page = reader_page.get("/cards/new/").content.decode()
    assert "杭州图书馆 已通过您的人工审核申请，可在该馆免押金办证。" in page
    assert '<button class="primary">在杭州图书馆办证</button>' in page
    assert "尚未完成信用授权，或授权结果已过期" not in page
    assert "还可以这样办" not in page
    assert reader_page.post("/cards/new/", {"library_code": "330100"}).status_code == 302
    card = Card.objects.get(reader=alice)
    assert (card.library_id, card.deposit_fen) == (hangzhou.pk, 0)
    # Used: the offer is gone with it.
    assert "已通过您的人工审核申请" not in reader_page.get("/cards/new/").content.decode()


def test_withdrawn_credit_consent_says_credit_borrowing_is_paused(
    reader_page, alice, hangzhou, hz_desk
):
    me = reader_actor(alice)
    for purpose in ("credit_check", "share_borrowing"):
        grant_consent(actor=me, reader=alice, purpose=purpose)
    review = ManualReview.objects.create(reader=alice, library=hangzhou)
    approve_manual_review(actor=hz_desk, review=review)
    card = issue_credit_card(actor=me, reader=alice, library=hangzhou)
    assert card.service_activated_at is not None
    pages = ("/cards/", "/cards/330100/", "/account/")
    for path in pages:
        html = reader_page.get(path).content.decode()
        assert "已开通" in html, path
        assert "信用借书已暂停" not in html, path

    withdraw_consent(actor=me, reader=alice, purpose="credit_check")
    for path in pages:
        html = reader_page.get(path).content.decode()
        assert '<span class="tag warn"' in html, path
        assert "信用借书已暂停" in html, path
    detail = reader_page.get("/cards/330100/").content.decode()
    notice = re.search(
        r'<div class="notice credit-paused" id="credit-paused">(.*?)</div>', detail, re.S
    )
    assert '<a href="/account/consents/credit_check/">《' in notice.group(1)
    assert "/account/consents/share_borrowing/" not in notice.group(1)
    assert "读者证照常有效，已借的书照常归还" in notice.group(1)

    grant_consent(actor=me, reader=alice, purpose="credit_check")
    assert "信用借书已暂停" not in reader_page.get("/cards/330100/").content.decode()
