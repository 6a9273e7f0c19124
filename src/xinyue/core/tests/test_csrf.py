"""Pages and the session-authenticated API refuse a POST without the CSRF token."""

from __future__ import annotations

import pytest
from conftest import PASSWORD
from django.test import Client

pytestmark = pytest.mark.django_db


def test_a_page_post_without_the_token_is_refused(operator_user):
    client = Client(enforce_csrf_checks=True)
    refused = client.post("/login/", {"username": "op", "password": PASSWORD})
    assert refused.status_code == 403
    assert "_auth_user_id" not in client.session


def test_a_session_api_post_without_the_token_is_refused(operator_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator_user)
    refused = client.patch(
        "/api/v1/libraries/330100", {"phone": "0571-1"}, content_type="application/json"
    )
    assert refused.status_code in (401, 403)
