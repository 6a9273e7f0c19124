"""The bookshelf (我的书架): anonymous in the session, a reader's in the database, the merge at
log-in, the header count, the limit, and who may touch whose shelf."""

from __future__ import annotations

import pytest

from xinyue.catalog.errors import ShelfFull, TitleNotFound
from xinyue.catalog.models import ShelfEntry
from xinyue.catalog.services import bookshelf
from xinyue.catalog.tests.portal_data import library_shelf, make_title, new_reader
from xinyue.catalog.web import SHELF_SESSION_KEY
from xinyue.core.errors import PermissionDenied
from xinyue.core.models import AuditEntry
from xinyue.readers.services.identity import reader_actor


@pytest.fixture
def books(db, categories):
    return library_shelf()


@pytest.fixture
def reader(db):
    return new_reader()


def count_in_header(response) -> int:
    return response.context["shelf_count"]


def add(client, title, **extra):
    return client.post("/shelf/add/", {"title_id": title.pk, "next": "/search/?q=x"}, **extra)


def shelf_titles(client) -> list[str]:
    return [t.title for t in client.get("/shelf/").context["titles"]]


# --- anonymous visitors ---------------------------------------------------------------------


@pytest.mark.django_db
def test_an_anonymous_shelf_lives_in_the_session(client, books):
    assert count_in_header(client.get("/")) == 0
    response = add(client, books["weicheng"])
    assert response.status_code == 302
    assert response["Location"] == "/search/?q=x"
    add(client, books["python"])
    add(client, books["weicheng"])  # twice: still once

    assert client.session[SHELF_SESSION_KEY] == [books["weicheng"].pk, books["python"].pk]
    assert count_in_header(client.get("/")) == 2
    assert shelf_titles(client) == ["Python编程", "围城"]  # last added first
    assert ShelfEntry.objects.count() == 0

    client.post("/shelf/remove/", {"title_id": books["weicheng"].pk, "next": "/shelf/"})
    assert shelf_titles(client) == ["Python编程"]
    assert count_in_header(client.get("/")) == 1


@pytest.mark.django_db
def test_the_header_count_is_on_every_page(client, books):
    add(client, books["weicheng"])
    for path in ("/", "/search/?q=围城", f"/titles/{books['python'].pk}/", "/categories/文学/"):
        html = client.get(path).content.decode()
        assert '<span class="badge" id="shelf-count">1</span>' in html, path
    assert 'href="/shelf/"' in html


@pytest.mark.django_db
def test_htmx_add_swaps_the_button_and_the_header_count(client, books):
    response = add(client, books["baiyexing"], HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert "已在书架" in html
    assert 'id="shelf-count" hx-swap-oob="true">1</span>' in html
    removed = client.post(
        "/shelf/remove/", {"title_id": books["baiyexing"].pk}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "加入书架" in removed
    assert 'hx-swap-oob="true">0</span>' in removed


@pytest.mark.django_db
def test_withdrawn_and_unknown_titles_cannot_be_added(client, books, categories):
    withdrawn = make_title("下架的书", is_active=False)
    response = client.post("/shelf/add/", {"title_id": withdrawn.pk}, follow=True)
    assert "找不到该书目" in response.content.decode()
    client.post("/shelf/add/", {"title_id": "999999"})
    client.post("/shelf/add/", {"title_id": "abc"})
    assert client.session.get(SHELF_SESSION_KEY) is None


@pytest.mark.django_db
def test_next_must_stay_on_this_site(client, books):
    response = client.post(
        "/shelf/add/", {"title_id": books["weicheng"].pk, "next": "https://evil.example/"}
    )
    assert response["Location"] == f"/titles/{books['weicheng'].pk}/"


@pytest.mark.django_db
def test_shelf_pages_need_post(client, books):
    assert client.get("/shelf/add/").status_code == 405


# --- readers ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_readers_shelf_is_kept_in_the_database(client, books, reader):
    client.force_login(reader.user)
    add(client, books["weicheng"])
    add(client, books["baiyexing"])
    assert list(
        ShelfEntry.objects.filter(reader=reader).order_by("id").values_list("title_id", flat=True)
    ) == [books["weicheng"].pk, books["baiyexing"].pk]
    assert count_in_header(client.get("/")) == 2
    client.post("/shelf/remove/", {"title_id": books["weicheng"].pk})
    assert shelf_titles(client) == ["白夜行"]
    assert list(
        AuditEntry.objects.filter(action__startswith="shelf.")
        .order_by("id")
        .values_list("action", "actor_ref", "detail")
    ) == [
        ("shelf.added", f"user:{reader.user_id}", {"title_id": books["weicheng"].pk}),
        ("shelf.added", f"user:{reader.user_id}", {"title_id": books["baiyexing"].pk}),
        ("shelf.removed", f"user:{reader.user_id}", {"title_id": books["weicheng"].pk}),
    ]


@pytest.mark.django_db
def test_the_anonymous_shelf_merges_into_the_readers_at_log_in(client, books, reader):
    bookshelf.add_to_shelf(
        actor=reader_actor(reader), reader_id=reader.pk, title_id=books["weicheng"].pk
    )
    add(client, books["python"])
    add(client, books["weicheng"])  # already on the reader's shelf
    add(client, books["baiyexing"])

    client.force_login(reader.user)  # Django keeps the session's data across log-in
    assert count_in_header(client.get("/")) == 3

    assert SHELF_SESSION_KEY not in client.session
    assert sorted(
        ShelfEntry.objects.filter(reader=reader).values_list("title_id", flat=True)
    ) == sorted([books["weicheng"].pk, books["python"].pk, books["baiyexing"].pk])
    merged = AuditEntry.objects.get(action="shelf.merged")
    assert merged.detail == {"title_ids": [books["python"].pk, books["baiyexing"].pk]}
    # Only once: a second request changes nothing.
    client.get("/shelf/")
    assert ShelfEntry.objects.filter(reader=reader).count() == 3
    assert AuditEntry.objects.filter(action="shelf.merged").count() == 1


@pytest.mark.django_db
def test_the_shelf_has_a_limit(books, reader, settings, client):
    actor = reader_actor(reader)
    settings.XINYUE_SHELF_LIMIT = 2
    bookshelf.add_to_shelf(actor=actor, reader_id=reader.pk, title_id=books["weicheng"].pk)
    bookshelf.add_to_shelf(actor=actor, reader_id=reader.pk, title_id=books["python"].pk)
    with pytest.raises(ShelfFull):
        bookshelf.add_to_shelf(actor=actor, reader_id=reader.pk, title_id=books["baiyexing"].pk)
    # A title already there is still fine, and the merge stops at the limit.
    bookshelf.add_to_shelf(actor=actor, reader_id=reader.pk, title_id=books["python"].pk)
    assert (
        bookshelf.merge_shelf(actor=actor, reader_id=reader.pk, title_ids=[books["baiyexing"].pk])
        == []
    )
    assert ShelfEntry.objects.filter(reader=reader).count() == 2
    # The same limit for an anonymous shelf.
    add(client, books["weicheng"])
    add(client, books["python"])
    refused = add(client, books["baiyexing"], HTTP_HX_REQUEST="true").content.decode()
    assert "书架已满，请先移除一些书" in refused
    assert client.session[SHELF_SESSION_KEY] == [books["weicheng"].pk, books["python"].pk]


@pytest.mark.django_db
def test_only_the_reader_touches_their_shelf(books, reader):
    other = new_reader()
    with pytest.raises(PermissionDenied):
        bookshelf.add_to_shelf(
            actor=reader_actor(other), reader_id=reader.pk, title_id=books["weicheng"].pk
        )
    bookshelf.add_to_shelf(
        actor=reader_actor(reader), reader_id=reader.pk, title_id=books["weicheng"].pk
    )
    with pytest.raises(PermissionDenied):
        bookshelf.remove_from_shelf(
            actor=reader_actor(other), reader_id=reader.pk, title_id=books["weicheng"].pk
        )
    assert ShelfEntry.objects.filter(reader=reader).count() == 1
    with pytest.raises(TitleNotFound):
        bookshelf.add_to_shelf(actor=reader_actor(reader), reader_id=reader.pk, title_id=999999)


@pytest.mark.django_db
def test_staff_pages_use_a_session_shelf(client, books, hz_desk_user):
    client.force_login(hz_desk_user)
    add(client, books["weicheng"])
    assert client.session[SHELF_SESSION_KEY] == [books["weicheng"].pk]
    assert ShelfEntry.objects.count() == 0


@pytest.mark.django_db
def test_the_shelf_is_in_the_export_and_goes_with_the_account(client, books, reader):
    from xinyue.insights.models import Event
    from xinyue.insights.services import flush_events
    from xinyue.readers.services.rights import delete_reader_account, export_reader_data

    actor = reader_actor(reader)
    bookshelf.add_to_shelf(actor=actor, reader_id=reader.pk, title_id=books["weicheng"].pk)
    client.force_login(reader.user)
    client.get(f"/titles/{books['weicheng'].pk}/")
    flush_events()
    assert Event.objects.filter(reader_id=reader.pk).count() == 2  # page view + click

    exported = export_reader_data(actor=actor, reader=reader)["bookshelf"]
    assert [(e["title_id"], e["title"], e["isbn"]) for e in exported] == [
        (books["weicheng"].pk, "围城", books["weicheng"].isbn13)
    ]

    delete_reader_account(actor=actor, reader=reader)
    assert ShelfEntry.objects.filter(reader=reader).count() == 0
    assert Event.objects.filter(reader_id=reader.pk).count() == 0
    assert Event.objects.filter(title_id=books["weicheng"].pk, type="click").count() == 1
