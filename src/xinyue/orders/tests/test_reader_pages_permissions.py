"""The reader's order pages walked against the permissions table like the console pages
(``accounts/tests/test_permissions_table.py``): each names its action, every role calls it, and
only the table's "own reader" may use it; everyone else is sent to log in or refused."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import get_resolver

from xinyue.accounts.tests.test_permissions_table import (
    ROLES,
    Probe,
    World,
    call,
    expected,
    page,
    refused,
    world,  # noqa: F401  (the shared fixture)
)
from xinyue.core.permissions import Action

MADE_UP = "XY20260101999999"

READER_PAGES: dict[str, Probe] = {
    "orders:new": Probe(
        Action.ORDER_BOOKS, lambda w, t: ("get", f"/orders/new/?title_ids={w.title_id}", None)
    ),
    "orders:list": Probe(Action.ORDER_BOOKS, page("/orders/")),
    "orders:detail": Probe(Action.ORDER_BOOKS, page(f"/orders/{MADE_UP}/")),
    "orders:cancel": Probe(Action.ORDER_BOOKS, page(f"/orders/{MADE_UP}/cancel/")),
    "orders:receipt": Probe(
        Action.ORDER_BOOKS, lambda w, t: ("post", f"/orders/{MADE_UP}/receipt/", {})
    ),
    "orders:loans": Probe(Action.ORDER_BOOKS, page("/loans/")),
    "orders:wait_list": Probe(
        Action.ORDER_BOOKS, lambda w, t: ("post", f"/wait-list/{w.title_id}/leave/", {})
    ),
}


def test_every_reader_page_of_orders_has_an_entry():
    """Console pages (under ``console/``) are walked by the accounts test; the rest here."""
    resolver = get_resolver().namespace_dict["orders"][1]
    reader_pages = {
        f"orders:{pattern.name}"
        for pattern in resolver.url_patterns
        if pattern.name and not str(pattern.pattern).startswith("console/")
    }
    assert reader_pages == set(READER_PAGES)


@pytest.mark.django_db
def test_every_reader_page_answers_as_the_table_says(world: World):  # noqa: F811
    wrong = []
    for name, probe in READER_PAGES.items():
        for role in ROLES:
            client = Client()
            if world.users[role] is not None:
                client.force_login(world.users[role])
            method, path, body = probe.call(world, "own")
            response = call(client, method, path, body)
            assert response.status_code < 500, (name, role, response.content[:300])
            should = expected(world, role, probe, "own")
            if should and MADE_UP in path and response.status_code == 404:
                continue  # the reader may look, and the made-up order is not there
            if refused(response) == should:
                wrong.append(f"{name} {role}: {response.status_code}")
    assert not wrong, "\n".join(wrong)
