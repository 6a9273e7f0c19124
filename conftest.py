"""Fixtures shared by every app's tests: actors, libraries, people, API clients."""

from __future__ import annotations

import pytest
from django.test import Client

from xinyue.accounts.models import User
from xinyue.accounts.selectors import actor_for_user
from xinyue.accounts.services import create_api_key, create_operator_user, create_staff_user
from xinyue.core.actors import SYSTEM, Actor
from xinyue.core.testing import LoopbackServer
from xinyue.libraries.models import Library
from xinyue.libraries.services import load_library_file
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor, register_reader
from xinyue.readers.tests.identities import ALICE, BOB

PASSWORD = "correct-horse-42"


@pytest.fixture
def zhejiang(db) -> None:
    """Zhejiang's member libraries. The migration loads them, but a transactional test (browser
    tests) flushes the tables afterwards; this puts them back when they are missing."""
    if not Library.objects.exists():
        load_library_file(actor=SYSTEM)


@pytest.fixture
def hangzhou(zhejiang) -> Library:
    return Library.objects.get(code="330100")


def allow_loopback(library: Library) -> Library:
    """Let ``library``'s webhooks and card checks reach a loopback test server: the operator's
    per-library allow-list (outbound URLs to loopback are refused otherwise)."""
    from xinyue.libraries.services import update_library

    update_library(
        actor=SYSTEM, library=library, settings_values={"outbound_allow_networks": ["127.0.0.0/8"]}
    )
    library.refresh_from_db()
    return library


@pytest.fixture
def ningbo(zhejiang) -> Library:
    return Library.objects.get(code="330200")


@pytest.fixture
def operator_user(db) -> User:
    return create_operator_user(actor=SYSTEM, username="op", password=PASSWORD)


@pytest.fixture
def operator(operator_user) -> Actor:
    return actor_for_user(operator_user)


def make_staff(library: Library, username: str, role: str = "desk") -> User:
    return create_staff_user(
        actor=SYSTEM, library=library, username=username, password=PASSWORD, role=role
    )


@pytest.fixture
def hz_admin_user(hangzhou) -> User:
    return make_staff(hangzhou, "hz_admin", "admin")


@pytest.fixture
def hz_desk_user(hangzhou) -> User:
    return make_staff(hangzhou, "hz_desk", "desk")


@pytest.fixture
def nb_admin_user(ningbo) -> User:
    return make_staff(ningbo, "nb_admin", "admin")


@pytest.fixture
def hz_admin(hz_admin_user) -> Actor:
    return actor_for_user(hz_admin_user)


@pytest.fixture
def hz_desk(hz_desk_user) -> Actor:
    return actor_for_user(hz_desk_user)


@pytest.fixture
def nb_admin(nb_admin_user) -> Actor:
    return actor_for_user(nb_admin_user)


def bearer_client(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}")


@pytest.fixture
def hz_key_client(hangzhou) -> Client:
    _key, token = create_api_key(
        actor=SYSTEM, name="Hangzhou ILS", scope="library", library=hangzhou, role="admin"
    )
    return bearer_client(token)


@pytest.fixture
def logged_in(client):
    """``logged_in(user)`` → the test client with a session for that user."""

    def login(user: User) -> Client:
        client.force_login(user)
        return client

    return login


# --- real headless Chromium (Debian's chromium driven by Playwright) -------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]


@pytest.fixture
def alice(db) -> Reader:
    return register_reader(**ALICE)


@pytest.fixture
def bob(db) -> Reader:
    return register_reader(**BOB)


@pytest.fixture
def alice_actor(alice):
    return reader_actor(alice)


@pytest.fixture
def loopback_server():
    """``loopback_server(respond, path="/")`` starts a peer system on a loopback port (see
    ``xinyue.core.testing.LoopbackServer``); every one started is closed after the test."""
    started: list[LoopbackServer] = []

    def start(respond=lambda body, headers: (204, b""), *, path: str = "/") -> LoopbackServer:
        started.append(LoopbackServer(respond, path=path))
        return started[-1]

    yield start
    for server in started:
        server.close()


@pytest.fixture(scope="session")
def browser():
    import os

    from playwright.sync_api import sync_playwright

    if not os.path.exists(CHROMIUM):
        pytest.skip("browser tests need Debian's chromium: apt-get install chromium fonts-noto-cjk")
    # Playwright runs an event loop in this thread; the ORM calls our tests make are still sync.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (own cookies), Chinese locale, phone-sized, on the live server."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, base_url=live_server.url
    )
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


# --- catalog -------------------------------------------------------------------------------
@pytest.fixture
def categories(db) -> None:
    """The category tree. The migration loads it, but a transactional test (browser tests)
    flushes the tables afterwards; this puts the missing categories back."""
    from xinyue.catalog.category_tree import load_tree
    from xinyue.catalog.models import Category

    load_tree(Category)


# --- scheduled tasks -------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _no_scheduled_tasks_left():
    """Tasks run in process in tests, and a retry scheduled for later stays in the task queue's
    memory; each test starts with none, so ``run_scheduled_tasks`` counts only its own."""
    from huey.contrib.djhuey import HUEY

    HUEY.flush()
    yield
    HUEY.flush()


# --- in-process counts ----------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _rate_limit_counts():
    """Each process counts rate-limited hits in memory (``core.throttling.COUNTS``) between
    exchanges with the shared counter; the test database is rolled back after each test, so
    these counts must go too."""
    from xinyue.core.throttling import COUNTS

    COUNTS.clear()
    yield COUNTS
    COUNTS.clear()


@pytest.fixture(autouse=True)
def _search_result_cache():
    """The search result cache (``catalog.selectors.search.RESULTS``) stays on in tests: it
    must be correct under every test that changes the catalog and searches again. The test
    database is rolled back after each test (and the catalog generation with it), so what a
    test cached goes with it — and the search page's kept answers (``catalog.views.ANSWERS``),
    so that each test's first search renders its answer (and its context) afresh."""
    from xinyue.catalog.selectors.search import GENERATION, RESULTS, forget_category_tree
    from xinyue.catalog.views import ANSWERS

    RESULTS.clear()
    ANSWERS.clear()
    GENERATION.forget()
    forget_category_tree()
    yield RESULTS
    RESULTS.clear()
    ANSWERS.clear()
    GENERATION.forget()
    forget_category_tree()


@pytest.fixture(autouse=True)
def _order_rules_cache():
    """The ordering rules are kept per process (``orders.selectors.platform_rules``); a test's
    rules roll back with its database, so the kept row must go too."""
    from xinyue.orders.selectors import forget_platform_rules

    forget_platform_rules()
    yield
    forget_platform_rules()


# --- insights ------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _usage_event_buffer():
    """Usage events are buffered per process (``xinyue.insights.buffer``). Each test starts and
    ends with an empty buffer and without the background flusher (whose own database
    connection would not see the test's transaction); tests call ``flush_events()``."""
    from xinyue.insights.services import EVENTS

    EVENTS.background = False
    EVENTS.discard()
    yield EVENTS
    EVENTS.discard()


# --- i18n ----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts and ends in the default language: a request in English (the language
    switch, Accept-Language) leaves English active in the thread for whatever runs next."""
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()
