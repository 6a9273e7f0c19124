"""Done-when: the ID number, name and phone of a registered reader appear nowhere in clear — not
in the database file (raw SQLite pages / PostgreSQL heap, TOAST and index files), not in the
logs the platform writes, not in any response of the usual flows.

The flows: registration through the API (with an Idempotency-Key, so its response is stored) and
the pages, log-in (right and wrong) through both (a page after a form error gives the typer back
what they typed, marked ``no-store``), the reader's own pages and API, consents, phone
verification by SMS, an address, the data export (API), a staff lookup by ID number and a desk
deposit card (webhook payload stored), all in committed transactions.
"""

from __future__ import annotations

import io
import json
import logging
import re

import pytest
from django.db import connection
from django.test import Client

from xinyue.readers.masking import PiiRedactingFilter
from xinyue.readers.models import Reader, SmsOutboxMessage
from xinyue.readers.services.addresses import add_address
from xinyue.readers.services.identity import reader_actor

# Used by this test only, so dead rows left by other tests can never contain them.
PEOPLE = [
    {
        "id_number": "330127198803140022",
        "name": "欧阳青禾",
        "phone": "13700001357",
        "password": "quiet-reading-5",
    },
    {
        "id_number": "331082197911220033",
        "name": "司马听澜",
        "phone": "15900002468",
        "password": "quiet-reading-6",
    },
]
ADDRESS = {
    "detail": "杭州市西湖区曙光路 99 号 3 幢",
    "recipient": "欧阳青禾",
    "phone": "13700001357",
}


def secrets_of(person: dict) -> list[bytes]:
    return [person["id_number"].encode(), person["name"].encode(), person["phone"].encode()]


ALL_SECRETS = [s for p in PEOPLE for s in secrets_of(p)] + [ADDRESS["detail"].encode()]


@pytest.fixture
def platform_log():
    """The platform's configured log handlers (settings.LOGGING, with the PII filter), their
    output captured: exactly what would reach the console or a log file."""
    handlers = [
        h
        for h in logging.getLogger().handlers
        if any(isinstance(f, PiiRedactingFilter) for f in h.filters)
    ]
    assert handlers, "settings.LOGGING must install the PII filter on the root handlers"
    buffer = io.StringIO()
    saved = [(h, h.setStream(buffer)) for h in handlers if isinstance(h, logging.StreamHandler)]
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    yield buffer
    root.setLevel(level)
    for handler, stream in saved:
        handler.setStream(stream)


def database_bytes() -> bytes:
    """Every byte of the database as stored: the SQLite file image (all pages, free ones
    included), or on PostgreSQL the heap, TOAST and index files of every relation of this
    database, read by the server after a checkpoint."""
    if connection.vendor == "sqlite":
        return connection.connection.serialize()
    chunks = []
    with connection.cursor() as cursor:
        cursor.execute("CHECKPOINT")
        cursor.execute(
            """
            SELECT pg_relation_filepath(c.oid) FROM pg_class c
            JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.relkind IN ('r', 't', 'i', 'm') AND n.nspname IN ('public', 'pg_toast')
              AND pg_relation_filepath(c.oid) IS NOT NULL AND pg_relation_size(c.oid) > 0
            """
        )
        paths = [row[0] for row in cursor.fetchall()]
        for path in paths:
            cursor.execute("SELECT pg_read_binary_file(%s)", [path])
            chunks.append(bytes(cursor.fetchone()[0]))
    return b"".join(chunks)


def table_text() -> str:
    """Every row of every table, as text (engine-independent second look)."""
    from django.apps import apps

    parts = []
    for model in apps.get_models():
        for row in model._base_manager.values_list():
            parts.append(repr(row))
    return "\n".join(parts)


def post_json(client: Client, path: str, body: dict, **headers) -> object:
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


@pytest.mark.django_db(transaction=True)
def test_no_clear_pii_in_database_logs_or_responses(
    settings, platform_log, zhejiang, hz_key_client, django_capture_on_commit_callbacks
):
    settings.XINYUE_SMS_VERIFICATION = True
    ouyang, sima = PEOPLE
    responses = []

    def keep(response):
        responses.append(response)
        return response

    # Registration: API (idempotent: the stored response is in the database) and pages.
    api = Client()
    with django_capture_on_commit_callbacks(execute=True):
        r = keep(post_json(api, "/api/v1/auth/register", ouyang, HTTP_IDEMPOTENCY_KEY="reg-1"))
    assert r.status_code == 201, r.content
    assert (
        keep(
            post_json(api, "/api/v1/auth/register", ouyang, HTTP_IDEMPOTENCY_KEY="reg-1")
        ).status_code
        == 201
    )
    assert keep(post_json(api, "/api/v1/auth/register", ouyang)).status_code == 409
    page = Client()
    keep(page.get("/reader/register/"))
    form = {
        **sima,
        "password2": sima["password"],
        "consent_id_number": "on",
        "consent_credit_check": "on",
    }
    # A form error gives back what this person just typed, so they need not type it again: to
    # them only, never cached (``no-store``), and never the password.
    retry = page.post("/reader/register/", {**form, "password2": "not-the-same-1"})
    assert retry.status_code == 422
    assert "no-store" in retry["Cache-Control"]
    assert sima["password"].encode() not in retry.content
    with django_capture_on_commit_callbacks(execute=True):
        assert keep(page.post("/reader/register/", form)).status_code == 302

    # Log-in: wrong and right, API and pages.
    for who, password in ((ouyang, "wrong-password"), (ouyang, ouyang["password"])):
        keep(
            post_json(
                api, "/api/v1/auth/token", {"id_number": who["id_number"], "password": password}
            )
        )
    token = responses[-1].json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    page.post("/reader/logout/")
    wrong = page.post(
        "/reader/login/", {"id_number": sima["id_number"], "password": "wrong-password"}
    )
    assert wrong.status_code == 401
    assert "no-store" in wrong["Cache-Control"]
    keep(
        page.post("/reader/login/", {"id_number": sima["id_number"], "password": sima["password"]})
    )

    # The reader's own API and pages.
    for path in ("/api/v1/readers/me", "/api/v1/readers/me/export", "/api/v1/readers/me/consents"):
        assert keep(api.get(path, **auth)).status_code == 200
    keep(post_json(api, "/api/v1/readers/me/consents", {"purpose": "share_borrowing"}, **auth))
    for path in (
        "/account/",
        "/account/consents/credit_check/",
        "/account/export/",
        "/account/delete/",
    ):
        assert keep(page.get(path)).status_code == 200

    # Phone verification (codes from the dev outbox).
    for message in SmsOutboxMessage.objects.all():
        assert message.phone_masked in {"137****1357", "159****2468"}
    code = re.search(
        r"(\d{6})", SmsOutboxMessage.objects.order_by("sent_at", "id").first().text
    ).group(1)
    verified = keep(post_json(api, "/api/v1/readers/me/phone/verify", {"code": code}, **auth))
    assert verified.status_code == 200, verified.content

    # An address, sealed.
    reader = Reader.objects.order_by("id").first()
    add_address(actor=reader_actor(reader), reader=reader, district_code="330106", **ADDRESS)

    # Staff: look the reader up by ID number, issue a deposit card (webhook payload stored).
    found = keep(
        post_json(hz_key_client, "/api/v1/desk/readers/lookup", {"id_number": ouyang["id_number"]})
    )
    assert found.status_code == 200, found.content
    assert found.json()["reader"]["id_number"] == "330***********0022"
    with django_capture_on_commit_callbacks(execute=True):
        issued = keep(
            post_json(
                hz_key_client,
                "/api/v1/desk/cards",
                {"id_number": sima["id_number"], "deposit_fen": 10000},
            )
        )
    assert issued.status_code == 201, issued.content
    logging.getLogger("xinyue.test").warning(
        "a careless line: %s %s %s", ouyang["id_number"], ouyang["phone"], sima["id_number"]
    )

    # 1. Responses: bodies and headers.
    for response in responses:
        blob = response.content + str(response.headers).encode()
        for secret in ALL_SECRETS:
            assert secret not in blob, (response.wsgi_request.path, secret.decode())

    # 2. Logs: the careless line came out masked, and nothing else leaked.
    output = platform_log.getvalue()
    assert "a careless line: 330***********0022 137****1357 331***********0033" in output
    assert "registered via" in output
    for secret in ALL_SECRETS:
        assert secret.decode() not in output, secret.decode()

    # 3. The database, raw and as rows.
    raw = database_bytes()
    assert len(raw) > 100_000
    # The bytes do hold the readers' rows: their (non-personal) user names and ciphertexts.
    for row in Reader.objects.select_related("user"):
        assert row.user.username.encode() in raw
        assert row.name_ct.encode() in raw
    text = table_text()
    assert "xyr_" not in text  # tokens are stored as hashes only
    for secret in ALL_SECRETS:
        assert secret not in raw, secret.decode()
        assert secret.decode() not in text, secret.decode()
