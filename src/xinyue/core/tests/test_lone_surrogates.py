"""A lone surrogate in a JSON string (``"\\ud800x"``) is refused with 422 in the error shape,
naming the field, before any view runs (issue 7, item 7): once it reached the blind index and
answered an HTML 500. Forms cannot carry one (Django decodes form bytes with replacement); a page
answers with a field error, never a 500."""

from __future__ import annotations

import pytest

from xinyue.accounts.services import create_api_key
from xinyue.core.actors import SYSTEM
from xinyue.core.models import AuditEntry
from xinyue.libraries.models import Library
from xinyue.readers.services.identity import register_reader

pytestmark = pytest.mark.django_db

LONE = '"\\ud800x"'  # the JSON text of a string holding a lone high surrogate
READER = {
    "id_number": "330106199001010026",
    "name": "林晓雨",
    "phone": "13812345678",
    "password": "read-more-books-7",
}


def post_raw(client, path: str, body: str, method: str = "post", **headers: str):
    return getattr(client, method)(
        path, data=body.encode("ascii"), content_type="application/json", headers=headers
    )


def assert_refused(response, field: str) -> None:
    assert response.status_code == 422, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["code"] == "invalid"
    assert list(body["detail"]["fields"]) == [field]


@pytest.fixture
def reader_token(client):
    register_reader(**READER, consents=("id_number", "credit_check"))
    answer = client.post(
        "/api/v1/auth/token",
        {"id_number": READER["id_number"], "password": READER["password"]},
        content_type="application/json",
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["token"]


def test_token_request(client):
    before = AuditEntry.objects.count()
    answer = post_raw(client, "/api/v1/auth/token", f'{{"id_number":{LONE},"password":"x"}}')
    assert_refused(answer, "id_number")
    assert AuditEntry.objects.count() == before


def test_reader_operations(client, reader_token, zhejiang):
    auth = {"Authorization": f"Bearer {reader_token}"}
    assert_refused(
        post_raw(client, "/api/v1/cards", f'{{"library_code":{LONE}}}', **auth), "library_code"
    )
    assert_refused(
        post_raw(client, "/api/v1/credit/authorizations", f'{{"provider":{LONE}}}', **auth),
        "provider",
    )


def test_desk_and_library_operations(client, hangzhou, operator_user):
    _key, token = create_api_key(
        actor=SYSTEM, name="HZ", scope="library", library=hangzhou, role="admin"
    )
    auth = {"Authorization": f"Bearer {token}"}
    assert_refused(
        post_raw(client, "/api/v1/desk/readers/lookup", f'{{"id_number":{LONE}}}', **auth),
        "id_number",
    )
    assert_refused(
        post_raw(
            client,
            "/api/v1/desk/cards/330100/33010000000001/suspend",
            f'{{"reason":{LONE}}}',
            **auth,
        ),
        "reason",
    )
    name = hangzhou.name
    patch = post_raw(
        client,
        "/api/v1/libraries/330100",
        f'{{"settings":{{"rest_verify_url":{LONE}}}}}',
        method="patch",
        **auth,
    )
    assert_refused(patch, "settings.rest_verify_url")
    assert Library.objects.get(pk=hangzhou.pk).name == name


def test_in_a_key_and_deep_in_a_list(client):
    answer = post_raw(client, "/api/v1/events", f'[{{"type":"search","query":"a"}},{{{LONE}:1}}]')
    assert_refused(answer, "1")


def test_a_form_field_cannot_carry_one(client):
    """``%ED%A0%80`` (a surrogate's UTF-8 form) decodes to U+FFFD: a field error, no 500."""
    page = client.post(
        "/reader/login/",
        data=b"id_number=%ED%A0%80x&password=x",
        content_type="application/x-www-form-urlencoded",
    )
    assert page.status_code == 401
    assert "身份证号或密码不正确" in page.content.decode()
