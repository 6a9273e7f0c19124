"""In real Chromium: search from the home page → results → detail → add to the bookshelf → the
header count changes (htmx, no reload) and the shelf lists the book."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from xinyue.catalog.tests.portal_data import library_shelf


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_detail_and_bookshelf(page, zhejiang, categories):
    library_shelf()

    page.goto("/")
    expect(page.locator("#shelf-count")).to_have_text("0")
    page.get_by_role("searchbox", name="搜索").fill("dygw")
    page.get_by_role("button", name="搜索").click()
    page.wait_for_url("**/search/?q=dygw")

    expect(page.locator("#result-total")).to_have_text("找到 2 本书")
    assert page.locator("ol.books mark").first.inner_text() == "东野圭吾"
    page.locator("ol.books .book-title a", has_text="白夜行").click()
    page.wait_for_url("**/titles/*/")

    expect(page.locator("#title-name")).to_have_text("白夜行")
    expect(page.locator("#stock")).to_contain_text("有货：共 2 册可借")
    page.get_by_role("button", name="加入书架").click()
    expect(page.locator("#shelf-count")).to_have_text("1")
    expect(page.get_by_role("button", name="已在书架 ✓")).to_be_visible()

    page.locator("a.shelf").click()
    page.wait_for_url("**/shelf/")
    expect(page.locator(".shelf-list .book-title")).to_have_text(["白夜行"])
    page.get_by_role("button", name="移出书架").click()
    page.wait_for_url("**/shelf/")
    expect(page.locator("#shelf-empty")).to_be_visible()
    expect(page.locator("#shelf-count")).to_have_text("0")
