"""Suppliers and cards moved to their own apps with their tables: a database migrated by the code
before the move keeps every row and every link when it migrates forward."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from xinyue.accounts.models import User
from xinyue.cards.models import Card, CardEvent, ManualReview
from xinyue.catalog.models import Offer
from xinyue.suppliers.models import Supplier

BEFORE_THE_MOVE = [
    ("catalog", "0005_search_index"),
    ("accounts", "0001_initial"),
    ("readers", "0005_alter_manualreview_status"),
]
# Columns added to the moved supplier table since (its webhooks' network allow-list) must go
# too, or the old model's rows would miss them.
UNDO = [*BEFORE_THE_MOVE, ("suppliers", None)]


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_move_are_read_by_the_moved_models(zhejiang):
    executor = MigrationExecutor(connection)
    executor.migrate(UNDO)
    try:
        check_rows_survive_the_move()
    finally:  # whatever happened, leave the schema whole for the tests after this one
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())


def check_rows_survive_the_move() -> None:
    executor = MigrationExecutor(connection)
    old = executor.loader.project_state(BEFORE_THE_MOVE).apps
    library = old.get_model("libraries", "Library").objects.get(code="330100")
    supplier = old.get_model("catalog", "Supplier").objects.create(code="xinhua", name="新华书店")
    title = old.get_model("catalog", "Title").objects.create(
        isbn13="9787020002207", title="红楼梦", list_price_fen=5990
    )
    old.get_model("catalog", "Offer").objects.create(supplier=supplier, title=title, stock=3)
    old.get_model("accounts", "User").objects.create(
        username="xh", kind="supplier", supplier=supplier
    )
    reader = old.get_model("readers", "Reader").objects.create()
    card = old.get_model("readers", "Card").objects.create(
        reader=reader,
        library=library,
        number="XY0001",
        kind="credit",
        issued_at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
    )
    old.get_model("readers", "CardEvent").objects.create(
        card=card, actor_ref="system", channel="system", to_state="active"
    )
    old.get_model("readers", "ManualReview").objects.create(
        reader=reader, library=library, status="used", card=card
    )

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())

    moved = Supplier.objects.get(code="xinhua")
    assert moved.pk == supplier.pk
    assert Offer.objects.get(title_id=title.pk).supplier == moved
    assert User.objects.get(username="xh").supplier == moved
    card_now = Card.objects.get(number="XY0001")
    assert (card_now.pk, card_now.reader_id, card_now.library_id) == (
        card.pk,
        reader.pk,
        library.pk,
    )
    assert list(CardEvent.objects.filter(card=card_now).values_list("to_state", flat=True)) == [
        "active"
    ]
    assert ManualReview.objects.get(reader_id=reader.pk).card == card_now
