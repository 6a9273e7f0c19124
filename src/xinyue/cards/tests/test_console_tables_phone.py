"""Console tables on a phone (real Chromium at 390×844): each row is a card of labelled lines,
nothing wraps one character per line, no button is cut off, and the page never scrolls sideways."""

from __future__ import annotations

import pytest
from conftest import PASSWORD

from xinyue.accounts.services import create_api_key
from xinyue.cards.models import ManualReview
from xinyue.cards.services.linking import link_existing_card
from xinyue.core.actors import SYSTEM
from xinyue.readers.services.identity import reader_actor

WIDTH = 390

# For every cell of every console table: its box, the label shown beside it, its buttons' boxes.
MEASURE = """() => [...document.querySelectorAll('table.grid td')].map(td => {
  const r = td.getBoundingClientRect();
  return {
    left: r.left, right: r.right, width: r.width, height: r.height,
    text: td.innerText.trim(),
    label: td.dataset.label || null,
    shown: getComputedStyle(td, '::before').content,
    buttons: [...td.querySelectorAll('button, input:not([type=hidden])')].map(b => {
      const q = b.getBoundingClientRect();
      return {left: q.left, right: q.right, width: q.width};
    }),
  };
})"""


def log_in(page, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/console/")


def assert_fits_a_phone(page, path: str, *, rows: int) -> list[dict]:
    page.goto(path)
    assert page.evaluate("document.documentElement.scrollWidth") <= WIDTH, path
    cells = page.evaluate(MEASURE)
    assert len(cells) >= rows, path
    for cell in cells:
        assert cell["left"] >= 0, (path, cell)
        assert cell["right"] <= WIDTH, (path, cell)
        # Stacked: a cell spans the card, never a sliver one character wide.
        assert cell["width"] > WIDTH * 0.7, (path, cell)
        if cell["label"]:
            assert cell["shown"] == f'"{cell["label"]}"', (path, cell)
        for button in cell["buttons"]:
            assert button["width"] > 0, (path, cell)
            assert button["left"] >= 0, (path, cell)
            assert button["right"] <= WIDTH, (path, cell)
    return cells


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_console_tables_stack_on_a_phone(page, hz_admin_user, hz_desk_user, alice, bob, hangzhou):
    link_existing_card(
        actor=reader_actor(alice), reader=alice, library=hangzhou, card_number="HZ-2024-000777"
    )
    ManualReview.objects.create(
        reader=bob, library=hangzhou, refusal_reason="refused", message="我在杭州工作，想办证"
    )
    create_api_key(actor=SYSTEM, name="杭州馆 ILS", scope="library", library=hangzhou, role="admin")

    log_in(page, "hz_desk")
    cells = assert_fits_a_phone(page, "/console/desk/requests/", rows=10)
    by_label = {c["label"]: c for c in cells if c["label"]}
    assert by_label["证号"]["text"] == "HZ-2024-000777"
    assert by_label["证号"]["height"] < 60  # one line, not a column of digits
    assert by_label["读者说明"]["text"] == "我在杭州工作，想办证"

    page.context.clear_cookies()
    log_in(page, "hz_admin")
    staff = assert_fits_a_phone(page, "/console/staff/", rows=6)
    assert any(c["buttons"] for c in staff)  # the enable/disable button, whole
    assert_fits_a_phone(page, "/console/libraries/330100/webhooks/", rows=1)
