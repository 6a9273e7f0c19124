"""Each role sees only what it can use: every link the console shows a user opens for that user,
and forms a role may not send are not shown (issue 8: a desk clerk saw the library settings form,
webhook links and 13 sub-libraries, all answering 403)."""

from __future__ import annotations

import re
from collections import deque

import pytest

from xinyue.libraries.models import Library

pytestmark = pytest.mark.django_db

HREF = re.compile(r'href="(/console/[^"?#]*)"')


def walk_console(client, start: str = "/console/", limit: int = 40) -> dict[str, int]:
    """Status of every console page reachable by links from ``start`` (breadth first)."""
    seen: dict[str, int] = {}
    queue = deque([start])
    while queue and len(seen) < limit:
        path = queue.popleft()
        if path in seen:
            continue
        response = client.get(path)
        seen[path] = response.status_code
        if response.status_code == 200:
            queue.extend(p for p in HREF.findall(response.content.decode()) if p not in seen)
    return seen


def test_every_console_link_of_a_desk_clerk_opens(logged_in, hz_desk_user):
    statuses = walk_console(logged_in(hz_desk_user))
    assert statuses == dict.fromkeys(statuses, 200)
    assert set(statuses) == {
        "/console/",
        "/console/libraries/330100/",
        "/console/staff/",
        "/console/desk/",
        "/console/desk/requests/",
        "/console/desk/checkin/",
        "/console/desk/checkout/",
        "/console/desk/returns/",
        "/console/desk/money/",
        "/console/circulation/rules/",
    }


def test_every_console_link_of_a_library_admin_opens(logged_in, hz_admin_user):
    statuses = walk_console(logged_in(hz_admin_user))
    assert statuses == dict.fromkeys(statuses, 200)
    assert "/console/libraries/330100/webhooks/" in statuses
    assert "/console/libraries/330102/" not in statuses  # a sub-library: not theirs to open


def test_every_console_link_of_the_operator_opens(logged_in, operator_user, zhejiang):
    statuses = walk_console(logged_in(operator_user), limit=30)
    assert len(statuses) == 30
    assert statuses == dict.fromkeys(statuses, 200)


def test_desk_clerk_sees_the_library_read_only(logged_in, hz_desk_user, hangzhou):
    hangzhou.address = "杭州市上城区解放东路58号"
    hangzhou.save(update_fields=["address"])
    html = logged_in(hz_desk_user).get("/console/libraries/330100/").content.decode()
    assert "杭州市上城区解放东路58号" in html
    assert 'id="library-facts"' in html
    for hidden in (
        '<form method="post" class="stack"',
        "sip2_",
        "rest_verify_secret",
        "webhooks",
        'id="children"',
        "杭州市上城区图书馆",
    ):
        assert hidden not in html, hidden


def test_desk_clerk_cannot_post_the_settings_form(logged_in, hz_desk_user, hangzhou):
    before = (hangzhou.address, dict(hangzhou.settings))
    response = logged_in(hz_desk_user).post(
        "/console/libraries/330100/", {"address": "elsewhere", "sip2_port": "1"}
    )
    assert response.status_code == 403
    hangzhou.refresh_from_db()
    assert (hangzhou.address, hangzhou.settings) == before


def test_admin_edits_their_library_and_sees_no_sub_library_links(logged_in, hz_admin_user):
    html = logged_in(hz_admin_user).get("/console/libraries/330100/").content.decode()
    assert 'id="library-form"' in html
    assert 'id="webhooks-link"' in html
    assert 'id="children"' not in html


def test_operator_sees_the_sub_libraries(logged_in, operator_user, zhejiang):
    html = logged_in(operator_user).get("/console/libraries/330100/").content.decode()
    children = re.search(r'<ul class="plain" id="children">(.*?)</ul>', html, re.S).group(1)
    expected = Library.objects.filter(parent__code="330100").count()
    assert children.count("<li>") == expected == 13
