from __future__ import annotations

import pytest


@pytest.mark.django_db
def test_login_page_offers_the_configured_channel_logins(client):
    html = client.get("/reader/login/?next=/cards/").content.decode()
    # The embedded demo has the sandbox configured; Alipay and WeChat need real keys.
    assert 'href="/login/sandbox/?next=/cards/"' in html
    assert "/login/alipay/" not in html
    assert "/login/wechat/" not in html
