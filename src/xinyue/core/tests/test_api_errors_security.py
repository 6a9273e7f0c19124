"""The API's answers to callers without credentials (issue 7, item 10): 401 `unauthenticated` in
the one JSON error shape, never a CSRF complaint; a session still needs its CSRF token."""

from __future__ import annotations

import pytest
from django.test import Client

PROTECTED_POSTS = ["/api/v1/cards", "/api/v1/bookshelf", "/api/v1/credit/authorizations"]


@pytest.mark.django_db
@pytest.mark.parametrize("path", PROTECTED_POSTS)
def test_anonymous_posts_to_protected_operations_are_401_unauthenticated(path):
    response = Client(enforce_csrf_checks=True).post(path, "{}", "application/json")
    assert response.status_code == 401
    assert response.json() == {
        "code": "unauthenticated",
        "message": "missing or invalid credentials",
        "detail": {},
    }
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.django_db
def test_a_logged_in_session_without_the_csrf_token_is_still_refused(operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    response = client.post("/api/v1/bookshelf", '{"title_id": 1}', "application/json")
    assert response.status_code == 403
