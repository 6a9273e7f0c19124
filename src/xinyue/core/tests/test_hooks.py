"""Hooks (``core/hooks.py``): the one registry through which a lower app calls a higher one."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from xinyue.core.hooks import ALL, Hook

ARCHITECTURE = Path(__file__).resolve().parents[4] / "docs" / "architecture.md"

# What each hook must have once every app is loaded (the apps' ``ready`` registered it).
REGISTERED = {
    "readers.deletion_obligations": 1,
    "readers.data_exporters": 4,
    "readers.data_erasers": 4,
    "cards.link_checks": 2,
    "catalog.popularity_sources": 4,
    "catalog.copies_back": 1,
    "orders.titles_on_loan": 1,
    "orders.items_shipped": 1,
    "orders.loans_started": 1,
    "core.webhook_publisher": 1,
    "core.reader_libraries": 1,
}


def test_every_hook_is_registered_by_the_apps_and_documented():
    assert {name: len(hook.values()) for name, hook in ALL.items()} == REGISTERED
    assert sorted(ALL["cards.link_checks"].keys()) == ["rest", "sip2"]
    documented = set(re.findall(r"`([a-z]+\.[a-z_]+)`", ARCHITECTURE.read_text()))
    assert set(ALL) <= documented, set(ALL) - documented


def test_a_hook_of_one_function_refuses_a_second_and_says_when_it_has_none():
    hook: Hook = Hook("tests.one_function", one=True)
    try:
        with pytest.raises(ImproperlyConfigured, match="nothing is registered"):
            hook(x=1)
        remove = hook.register(lambda *, x: x + 1)
        assert hook(x=1) == 2
        with pytest.raises(ImproperlyConfigured, match="takes one function"):
            hook.register(lambda *, x: x)
        remove()
        assert not hook
    finally:
        del ALL["tests.one_function"]


def test_many_functions_answer_in_order_and_registering_twice_is_a_no_op():
    hook: Hook = Hook("tests.many")
    try:

        def first(**kwargs):
            return ("first", kwargs)

        def second(**kwargs):
            return ("second", kwargs)

        hook.register(first)
        hook.register(second)
        hook.register(first)  # an app's ready() run again
        assert hook.each(n=1) == [("first", {"n": 1}), ("second", {"n": 1})]
        with pytest.raises(TypeError):
            hook(n=1)
        with pytest.raises(ValueError, match="declared twice"):
            Hook("tests.many")
    finally:
        del ALL["tests.many"]
