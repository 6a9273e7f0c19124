"""The audit log page says who did what to which object in words; the raw row is one click away."""

from __future__ import annotations

import html as html_lib
import re
from pathlib import Path

import pytest
from django.conf import settings

from xinyue.accounts.audit_display import ACTIONS
from xinyue.core import audit
from xinyue.core.actors import Actor, ActorKind, Channel

pytestmark = pytest.mark.django_db

SOURCE = Path(__file__).resolve().parents[2]


def rows_of(page: str) -> list[str]:
    body = page.split('<table class="grid audit responsive" id="audit-log">', 1)[1]
    return re.findall(r"<tr data-action=.*?</tr>", body, re.S)


def cell(row: str, cls: str) -> str:
    return re.search(rf'class="{cls}">(.*?)</td>', row, re.S).group(1)


@pytest.fixture
def entries(hangzhou, hz_desk):
    reader = Actor(kind=ActorKind.READER, label="reader:6", user_id=40, reader_id=6)
    audit.record(
        actor=reader.via(Channel.ALIPAY),
        action="card_review.requested",
        object_type="readers.manualreview",
        object_id=2,
        library_code="330100",
        threshold=None,
    )
    audit.record(
        actor=hz_desk.via(Channel.DESK),
        action="card.link_refused",
        object_type="readers.cardlinkrequest",
        object_id=3,
        library_code="330100",
        reason="证号不符",
    )


def test_rows_in_words_with_the_raw_values_on_demand(logged_in, operator_user, entries):
    page = logged_in(operator_user).get("/console/audit/?action=card").content.decode()
    refused, requested = rows_of(page)
    assert cell(refused, "who") == "馆员 hz_desk"
    assert cell(refused, "what") == "退回绑定申请"
    assert cell(refused, "which") == "绑定申请 #3"
    assert '<td data-label="成员馆">杭州图书馆</td>' in refused
    assert '<td data-label="渠道">服务台</td>' in refused
    assert cell(requested, "who") == "读者（编号 6）"
    assert cell(requested, "what") == "申请人工审核"
    assert cell(requested, "which") == "人工审核申请 #2"
    assert '<td data-label="渠道">支付宝</td>' in requested
    # The raw values are there, folded away in a <details> element.
    raw = html_lib.unescape(re.search(r"<details>(.*?)</details>", requested, re.S).group(1))
    assert '"action": "card_review.requested"' in raw
    assert '"actor_label": "reader:6"' in raw
    assert '"threshold": null' in raw
    folded = re.sub(r"<details>.*?</details>", "", page, flags=re.S)
    outside = html_lib.unescape(re.sub(r"<[^>]+>", " ", folded))  # the text a reader sees
    for code in ("card_review.requested", "card.link_refused", "reader:6", "{'threshold'"):
        assert code not in outside, code


def test_rows_in_english(logged_in, operator_user, entries):
    client = logged_in(operator_user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    refused, requested = rows_of(client.get("/console/audit/?action=card").content.decode())
    assert cell(refused, "who") == "Library staff hz_desk"
    assert cell(refused, "what") == "Refused a card link request"
    assert cell(refused, "which") == "Link request #3"
    assert cell(requested, "who") == "Reader (no. 6)"
    assert cell(requested, "what") == "Requested a manual review"


def test_every_action_the_code_records_has_words():
    recorded = set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "audit" not in text:
            continue
        recorded |= set(re.findall(r'action="([a-z_]+\.[a-z_]+)"', text))
        for a, b in re.findall(r'"([a-z_]+\.[a-z_]+)" if \w+ else "([a-z_]+\.[a-z_]+)"', text):
            recorded |= {a, b}
    assert len(recorded) > 50
    assert recorded - set(ACTIONS) == set()
