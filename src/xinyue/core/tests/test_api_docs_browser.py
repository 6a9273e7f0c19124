"""In real Chromium: /api/v1/docs renders Swagger UI from our own static files under our CSP and
lists the operations (before, it loaded Swagger UI from a CDN that the CSP blocked: blank page)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_docs_page_lists_the_operations(page, live_server):
    requests: list[str] = []
    problems: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )

    response = page.goto("/api/v1/docs")
    assert response is not None
    assert response.status == 200
    assert "script-src 'self';" in response.headers["content-security-policy"]

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("信阅 API")
    operations = page.locator(".opblock .opblock-summary-path")
    expect(operations.first).to_be_visible()
    paths = operations.all_inner_texts()
    assert len(paths) >= 50
    assert "/api/v1/health" in [p.replace("\u200b", "") for p in paths]
    expect(page.locator(".opblock-get .opblock-summary-path").first).to_be_visible()

    assert problems == []
    assert requests
    assert [url for url in requests if not url.startswith(live_server.url)] == []
