"""Fixtures of the credit tests: keys in a per-run folder, readers with consents, the sandbox
gateway reached over real HTTP (``live``), and helpers that play the reader on its pages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from xinyue.credit import conf, crypto
from xinyue.readers.models import Reader
from xinyue.readers.services.identity import reader_actor, register_reader

# Valid checksums, real Zhejiang region codes, clearly made-up people.
READERS = {
    "lin": {
        "id_number": "330106199001010026",
        "name": "林晓雨",
        "phone": "13812345678",
        "password": "read-more-books-7",
    },
    "wang": {
        "id_number": "33020319850715001X",
        "name": "王大卫",
        "phone": "13987654321",
        "password": "read-more-books-8",
    },
}
ALL_CONSENTS = ("id_number", "credit_check", "share_borrowing")


@pytest.fixture(scope="session")
def credit_key_dir(tmp_path_factory) -> Any:
    """One key folder for the run: the sandbox pair is generated once (first use), as in prod."""
    return tmp_path_factory.mktemp("credit_keys")


@pytest.fixture(autouse=True)
def _credit_settings(settings, credit_key_dir) -> None:
    settings.CREDIT_KEY_DIR = credit_key_dir
    settings.CREDIT_SANDBOX_ENABLED = True
    settings.CREDIT_SANDBOX_IN_PROCESS = False  # the adapters are tested over real HTTP
    settings.CREDIT_HTTP_TIMEOUT_SECONDS = 5
    settings.CREDIT_SANDBOX_TIMEOUT_DELAY_SECONDS = 1.0


def make_reader(key: str = "lin", consents: tuple[str, ...] = ALL_CONSENTS) -> Reader:
    return register_reader(**READERS[key], consents=consents)


@pytest.fixture
def reader(db) -> Reader:
    return make_reader("lin")


@pytest.fixture
def actor(reader):
    return reader_actor(reader)


@pytest.fixture(scope="session")
def stranger_key():
    """A key nobody registered: what a forger would sign with."""
    return crypto.generate_private_key()


@dataclass
class Live:
    """The platform on a live server; the sandbox gateway mounted in it, as in embedded mode."""

    url: str
    operator_token: str = ""

    def confirm(self, confirm_url: str, decision: str = "approve", score: int = 600, **extra: str):
        """The reader on the sandbox's confirm page: POST the decision (no redirect followed)."""
        return requests.post(
            confirm_url,
            data={"decision": decision, "score": str(score), **extra},
            allow_redirects=False,
            timeout=10,
        )

    def control(self, path: str, payload: dict | None = None, method: str = "post"):
        response = requests.request(
            method,
            f"{self.url}/sandbox/zhima/control/{path}",
            json=payload or {},
            headers={"Authorization": f"Bearer {self.operator_token}"},
            timeout=10,
        )
        assert response.status_code < 300, response.text
        return response.json()


@pytest.fixture
def live(live_server, settings) -> Live:
    """The sandbox's control endpoints take the operator's platform API key."""
    from xinyue.accounts.services import create_api_key
    from xinyue.core.actors import SYSTEM

    settings.PUBLIC_BASE_URL = live_server.url
    _key, token = create_api_key(actor=SYSTEM, name="sandbox control", scope="platform")
    return Live(url=live_server.url, operator_token=token)


def sandbox_keys() -> dict:
    return conf.ensure_sandbox_keys()


def path_and_query(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")
