"""In-app messages: only paths of this site as links, only the reader's own, in the export, gone
with the account."""

from __future__ import annotations

import pytest

from xinyue.core.errors import PermissionDenied
from xinyue.readers.errors import MessageNotFound
from xinyue.readers.models import Message, MessageDelivery
from xinyue.readers.selectors.messages import reader_messages
from xinyue.readers.services.messages import mark_messages_read, notify_reader
from xinyue.readers.services.rights import delete_reader_account, export_reader_data

pytestmark = pytest.mark.django_db


def test_links_are_paths_of_this_site_and_no_sender_means_in_app_only(alice):
    kept = notify_reader(reader=alice, kind="t", subject="甲", body="", link="/titles/1/")
    dropped = [
        notify_reader(reader=alice, kind="t", subject="乙", body="", link=link).link
        for link in ("https://evil.example/", "//evil.example/x", "javascript:alert(1)")
    ]
    assert (kept.link, dropped) == ("/titles/1/", ["", "", ""])
    assert MessageDelivery.objects.count() == 0


def test_only_the_reader_reads_and_marks_their_messages(alice, bob, alice_actor):
    from xinyue.readers.services.identity import reader_actor

    mine = notify_reader(reader=alice, kind="t", subject="甲", body="")
    theirs = notify_reader(reader=bob, kind="t", subject="乙", body="")
    with pytest.raises(PermissionDenied):
        reader_messages(actor=reader_actor(bob), reader=alice)
    with pytest.raises(MessageNotFound):
        mark_messages_read(actor=alice_actor, reader=alice, message_ids=[mine.pk, theirs.pk])
    assert Message.objects.filter(read_at__isnull=False).count() == 0
    assert mark_messages_read(actor=alice_actor, reader=alice) == 1
    assert Message.objects.get(pk=theirs.pk).read_at is None


def test_messages_are_exported_and_deleted_with_the_account(alice, alice_actor):
    notify_reader(reader=alice, kind="order.placed", subject="订单 XY1 已提交", body="正文")
    exported = export_reader_data(actor=alice_actor, reader=alice)["messages"]
    assert [(m["kind"], m["subject"], m["body"], m["read_at"]) for m in exported] == [
        ("order.placed", "订单 XY1 已提交", "正文", None)
    ]
    delete_reader_account(actor=alice_actor, reader=alice)
    assert Message.objects.filter(reader=alice).count() == 0
