"""What a web worker loads (issue 11 item 4, docs/decisions.md "Web workers: what a worker
loads"): a fresh process imports ``xinyue.wsgi`` on SQLite and answers reader requests through the
WSGI callable; the segmentation table (rjieba ~33 MB a process) and the libraries only some pages
use are loaded by their first real use, never by the import; pypinyin (~27 MB, the index's
phrase-aware pinyin) is never loaded by a web worker's reader traffic."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys

import pytest
from django.db import connection

from xinyue.catalog.services.indexing import index_titles
from xinyue.catalog.tests.factories import TitleFactory

# Runs in the worker's place: the WSGI app, then requests one after the other; after each step,
# which of the watched modules are loaded.
WORKER = r"""
import gc, io, json, sys
from urllib.parse import urlencode
from wsgiref.util import setup_testing_defaults

WATCHED = ("rjieba", "pypinyin", "pymarc", "segno")


def loaded():
    return sorted(m for m in WATCHED if m in sys.modules)


steps = {}
from xinyue.wsgi import application

steps["import"] = {"modules": loaded(), "frozen": gc.get_freeze_count()}


def get(path, **query):
    environ = {"PATH_INFO": path, "QUERY_STRING": urlencode(query), "wsgi.input": io.BytesIO()}
    setup_testing_defaults(environ)
    answer = {}

    def start_response(status, headers, exc_info=None):
        answer["status"] = int(status.split()[0])

    body = b"".join(application(environ, start_response))
    return answer["status"], body.decode()


for name, path, query in json.loads(sys.argv[1]):
    status, body = get(path, **query)
    steps[name] = {"status": status, "body": body, "modules": loaded()}
print(json.dumps(steps))
"""


@pytest.mark.slow
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the worker under test runs on SQLite")
def test_a_web_worker_loads_segmentation_only_when_a_request_needs_it_and_never_pypinyin(
    transactional_db, tmp_path
):
    title = TitleFactory(title="围城", isbn13="9787020090006")
    index_titles(title_ids=[title.pk])
    # The worker's database: this test's, copied to where the worker's data directory has it.
    connection.ensure_connection()
    copy = sqlite3.connect(tmp_path / "xinyue.sqlite3")
    connection.connection.backup(copy)
    copy.close()

    requests = [
        ["home", "/", {}],
        ["title_page", f"/titles/{title.pk}/", {}],
        ["shelf", "/shelf/", {}],
        ["isbn_search", "/api/v1/catalog/search", {"q": "9787020090006"}],
        ["pinyin_search", "/api/v1/catalog/search", {"q": "weic"}],
        ["pinyin_search_page", "/search/", {"q": "wc"}],
        ["chinese_search", "/api/v1/catalog/search", {"q": "围城"}],
        ["chinese_search_page", "/search/", {"q": "围城"}],
    ]
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",)}
    env.update(XINYUE_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="xinyue.settings")
    out = subprocess.run(
        [sys.executable, "-c", WORKER, json.dumps(requests)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    steps = json.loads(out.strip().splitlines()[-1])

    assert steps["import"]["modules"] == []
    # The start-up heap is frozen: the collector's full passes skip it (xinyue.wsgi).
    assert steps["import"]["frozen"] > 50_000
    for name in ("home", "title_page", "shelf"):
        assert steps[name]["status"] == 200, name
        assert steps[name]["modules"] == [], name
    assert "围城" in steps["title_page"]["body"]
    # An ISBN is not segmented: still nothing loaded, and the title is found.
    assert json.loads(steps["isbn_search"]["body"])["total"] == 1
    assert steps["isbn_search"]["modules"] == []
    # A Latin query over Han titles is matched by the index's pinyin tokens and highlighted from
    # each character's readings: neither pypinyin (its phrase table) nor rjieba is loaded.
    found = json.loads(steps["pinyin_search"]["body"])
    assert (found["total"], found["items"][0]["title"]) == (1, "围城")
    assert found["items"][0]["highlights"]["title"] == "<mark>围城</mark>"
    assert steps["pinyin_search"]["modules"] == []
    assert steps["pinyin_search_page"]["status"] == 200
    assert "<mark>围城</mark>" in steps["pinyin_search_page"]["body"]
    assert steps["pinyin_search_page"]["modules"] == []
    # A Chinese query is segmented (rjieba); its answer and highlight need no pinyin.
    found = json.loads(steps["chinese_search"]["body"])
    assert (found["total"], found["items"][0]["title"]) == (1, "围城")
    assert steps["chinese_search"]["modules"] == ["rjieba"]
    assert steps["chinese_search_page"]["status"] == 200
    assert "<mark>围城</mark>" in steps["chinese_search_page"]["body"]
    assert steps["chinese_search_page"]["modules"] == ["rjieba"]
