"""The wait-list: readers told in the order they joined when copies come back, each with a
window to order before the next reader is told; ordering ends the entry."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from stdnum import ean

from xinyue.catalog.models import Offer
from xinyue.catalog.services.offers import update_stock
from xinyue.core import clock
from xinyue.core.actors import SYSTEM, Channel
from xinyue.core.models import AuditEntry
from xinyue.orders import services
from xinyue.orders.errors import TitleInStock
from xinyue.orders.models import WaitListEntry
from xinyue.orders.tests.conftest import ADDRESS, make_reader, placed
from xinyue.readers.models import Message
from xinyue.readers.services.identity import reader_actor
from xinyue.readers.services.tokens import issue_reader_token

pytestmark = pytest.mark.django_db


def turns() -> list[tuple[int, str]]:
    """(reader id, subject) of every wait-list message, in the order they were sent."""
    rows = Message.objects.filter(kind="waitlist.turn").order_by("id")
    return [(m.reader_id, m.subject) for m in rows]


def statuses(title) -> list[tuple[int, str]]:
    rows = WaitListEntry.objects.filter(title=title).order_by("id")
    return list(rows.values_list("reader_id", "status"))


@pytest.fixture
def sold_out(titles):
    title = titles[0]
    Offer.objects.filter(title=title).update(stock=0)
    # a valid ISBN, so the supplier's stock update can name it
    title.isbn13 = "978730000001" + ean.calc_check_digit("978730000001")
    title.save(update_fields=["isbn13"])
    return title


@pytest.fixture
def three(reader, zhejiang):
    return [reader, make_reader(2), make_reader(3)]


def join(reader, title):
    return services.join_wait_list(actor=reader_actor(reader), reader=reader, title_id=title.pk)


def restock(supplier, title, stock, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        update_stock(actor=SYSTEM, supplier=supplier, isbn=title.isbn13, stock=stock)


def test_readers_are_told_in_the_order_they_joined_one_window_at_a_time(
    three, sold_out, supplier, budget, django_capture_on_commit_callbacks
):
    first, second, third = three[1], three[0], three[2]  # joining order ≠ id order
    for reader in (first, second, third):
        join(reader, sold_out)
    assert [services.wait_list_position(e) for e in WaitListEntry.objects.order_by("id")] == [
        1,
        2,
        3,
    ]
    assert turns() == []

    restock(supplier, sold_out, 1, django_capture_on_commit_callbacks)
    subject = f"《{sold_out.title}》有货了"
    assert turns() == [(first.pk, subject)]
    told = WaitListEntry.objects.get(reader=first)
    assert told.window_ends_at - told.notified_at == dt.timedelta(hours=48)
    message = Message.objects.get(kind="waitlist.turn")
    assert message.link == f"/titles/{sold_out.pk}/"

    # Within the window nothing moves, however often the job runs.
    assert services.advance_wait_lists() == 0
    # The first reader's window passes: the second is told.
    later = told.window_ends_at + dt.timedelta(minutes=1)
    assert services.advance_wait_lists(now=later) == 1
    assert turns() == [(first.pk, subject), (second.pk, subject)]
    assert statuses(sold_out) == [
        (first.pk, "expired"),
        (second.pk, "notified"),
        (third.pk, "waiting"),
    ]

    # The second reader orders the title: the entry ends, and the copy is theirs.
    order = placed(
        actor=reader_actor(second),
        reader=second,
        title_ids=[sold_out.pk],
        channel=Channel.PC,
        address=ADDRESS,
    )
    assert order.status == "confirmed"
    assert statuses(sold_out)[1] == (second.pk, "ordered")
    assert services.advance_wait_lists(now=later) == 0  # no copy left for the third

    # Two copies come back: only the third reader is still waiting.
    restock(supplier, sold_out, 2, django_capture_on_commit_callbacks)
    assert turns() == [(first.pk, subject), (second.pk, subject), (third.pk, subject)]


def test_as_many_readers_are_told_as_there_are_copies(
    three, sold_out, supplier, django_capture_on_commit_callbacks
):
    for reader in three:
        join(reader, sold_out)
    restock(supplier, sold_out, 2, django_capture_on_commit_callbacks)
    assert [r for r, _s in turns()] == [three[0].pk, three[1].pk]


def test_leaving_with_the_turn_passes_it_on_at_once(
    three, sold_out, supplier, django_capture_on_commit_callbacks
):
    for reader in three[:2]:
        join(reader, sold_out)
    restock(supplier, sold_out, 1, django_capture_on_commit_callbacks)
    assert services.leave_wait_list(
        actor=reader_actor(three[0]), reader=three[0], title_id=sold_out.pk
    )
    assert [r for r, _s in turns()] == [three[0].pk, three[1].pk]
    assert statuses(sold_out) == [(three[0].pk, "withdrawn"), (three[1].pk, "notified")]
    # leaving again changes nothing
    assert not services.leave_wait_list(
        actor=reader_actor(three[0]), reader=three[0], title_id=sold_out.pk
    )


def test_a_copy_given_back_by_a_cancelled_order_reaches_the_wait_list(
    three, titles, budget, django_capture_on_commit_callbacks
):
    title = titles[1]
    Offer.objects.filter(title=title).update(stock=1)
    holder, waiter = three[0], three[1]
    order = placed(
        actor=reader_actor(holder),
        reader=holder,
        title_ids=[title.pk],
        channel=Channel.PC,
        address=ADDRESS,
    )
    join(waiter, title)
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(actor=reader_actor(holder), order=order)
    assert [r for r, _s in turns()] == [waiter.pk]


def test_joining_a_title_in_stock_is_refused_and_changes_nothing(reader, titles):
    before = (WaitListEntry.objects.count(), AuditEntry.objects.count(), Message.objects.count())
    with pytest.raises(TitleInStock) as caught:
        join(reader, titles[0])
    assert caught.value.code == "title_in_stock"
    assert caught.value.message == "该书有货，可直接下单，无需等候"
    after = (WaitListEntry.objects.count(), AuditEntry.objects.count(), Message.objects.count())
    assert after == before


def test_joining_twice_is_one_entry(reader, sold_out):
    assert join(reader, sold_out).pk == join(reader, sold_out).pk
    assert WaitListEntry.objects.count() == 1


def test_the_api_and_the_title_page(reader, sold_out, client):
    _row, token = issue_reader_token(reader=reader, channel=Channel.WECHAT)
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = api.post(
        "/api/v1/wait-list", {"title_id": sold_out.pk}, content_type="application/json"
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["title_id"], body["status"], body["position"]) == (sold_out.pk, "waiting", 1)
    assert [e["title_id"] for e in api.get("/api/v1/wait-list").json()] == [sold_out.pk]
    assert api.delete(f"/api/v1/wait-list/{sold_out.pk}").status_code == 204
    assert api.get("/api/v1/wait-list").json() == []

    Offer.objects.filter(title=sold_out).update(stock=3)
    response = api.post(
        "/api/v1/wait-list", {"title_id": sold_out.pk}, content_type="application/json"
    )
    assert (response.status_code, response.json()["code"]) == (409, "title_in_stock")
    Offer.objects.filter(title=sold_out).update(stock=0)

    client.force_login(reader.user)
    page = client.get(f"/titles/{sold_out.pk}/").content.decode()
    assert f'action="/wait-list/{sold_out.pk}/join/"' in page
    response = client.post(f"/wait-list/{sold_out.pk}/join/")
    assert (response.status_code, response["Location"]) == (302, f"/titles/{sold_out.pk}/")
    assert statuses(sold_out)[-1] == (reader.pk, "waiting")
    assert "已加入等候名单（第 1 位）" in client.get(f"/titles/{sold_out.pk}/").content.decode()


def test_the_window_is_an_operator_setting(
    three, sold_out, supplier, django_capture_on_commit_callbacks
):
    services.set_rules(actor=SYSTEM, waitlist_window_hours=6)
    join(three[0], sold_out)
    now = clock.now()
    restock(supplier, sold_out, 1, django_capture_on_commit_callbacks)
    entry = WaitListEntry.objects.get()
    assert dt.timedelta(hours=6) <= entry.window_ends_at - now < dt.timedelta(hours=6, minutes=1)
