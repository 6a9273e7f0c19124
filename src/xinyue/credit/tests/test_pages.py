"""Pages: authorize credit (reader), the result page (pending → admitted / refused with the ways
forward), the operator's provider settings (audited; nobody else)."""

from __future__ import annotations

import pytest

from xinyue.core.models import AuditEntry
from xinyue.credit import selectors, services
from xinyue.credit.models import CreditAuthorization, ProviderSetting
from xinyue.credit.tests.conftest import make_reader
from xinyue.readers.selectors import has_consent
from xinyue.readers.services.identity import reader_actor


@pytest.mark.django_db
def test_the_authorize_page_needs_a_reader(client):
    response = client.get("/credit/")
    assert response.status_code == 302
    assert response["Location"] == "/reader/login/?next=%2Fcredit%2F"


@pytest.mark.django_db
def test_the_authorize_page_offers_providers_and_asks_for_consent_first(client):
    reader = make_reader(consents=("id_number",))
    client.force_login(reader.user)
    html = client.get("/credit/").content.decode()
    assert 'value="sandbox"' in html
    assert "准入分 550" in html
    assert 'name="consent"' in html
    refused = client.post("/credit/", {"provider": "sandbox"})
    assert refused.status_code == 422
    assert "信用评估需要您的授权同意" in refused.content.decode()
    assert CreditAuthorization.objects.count() == 0
    assert not has_consent(reader=reader, purpose="credit_check")


@pytest.mark.django_db(transaction=True)
def test_consent_and_start_then_back_to_an_admitted_result(client, live):
    reader = make_reader(consents=("id_number",))
    client.force_login(reader.user)
    response = client.post("/credit/", {"provider": "sandbox", "consent": "on"})
    assert response.status_code == 302
    assert has_consent(reader=reader, purpose="credit_check")
    authorization = CreditAuthorization.objects.get()
    assert response["Location"] == authorization.confirm_url
    pending = client.get(f"/credit/authorizations/{authorization.pk}/").content.decode()
    assert 'data-status="pending"' in pending
    assert 'hx-trigger="every 2s"' in pending
    back = live.confirm(authorization.confirm_url, "approve", 600).headers["Location"]
    path = back.removeprefix(live.url)
    returned = client.get(path)
    assert returned["Location"] == f"/credit/authorizations/{authorization.pk}/"
    html = client.get(returned["Location"]).content.decode()
    assert 'data-status="admitted"' in html
    assert "hx-trigger" not in html  # polling stops once decided
    assert 'id="get-card"' in html


@pytest.mark.django_db(transaction=True)
def test_a_refused_reader_sees_why_and_the_ways_forward(client, live):
    reader = make_reader()
    client.force_login(reader.user)
    client.post("/credit/", {"provider": "sandbox"})
    authorization = CreditAuthorization.objects.get()
    live.confirm(authorization.confirm_url, "approve", 549)
    html = client.get(f"/credit/authorizations/{authorization.pk}/status/").content.decode()
    assert 'data-status="refused"' in html
    assert "未达到平台准入分（550）" in html
    for code in ("deposit_card", "manual_review", "link_card"):
        assert f'data-code="{code}"' in html
    assert "/cards/new/" in html
    assert "/cards/link/" in html
    assert "549" not in html


@pytest.mark.django_db(transaction=True)
def test_the_query_button_is_the_fallback(client, live):
    reader = make_reader()
    client.force_login(reader.user)
    live.control("users", {"login": "mute", "score": 620, "faults": ["no_notify"]})
    client.post("/credit/", {"provider": "sandbox"})
    authorization = CreditAuthorization.objects.get()
    live.confirm(authorization.confirm_url, "approve", 620, login="mute")
    assert CreditAuthorization.objects.get().status == "pending"
    response = client.post(f"/credit/authorizations/{authorization.pk}/")
    assert response.status_code == 302
    assert CreditAuthorization.objects.get().status == "admitted"


@pytest.mark.django_db
def test_another_readers_authorization_is_not_found(client):
    owner = make_reader("lin")
    other = make_reader("wang")
    authorization = CreditAuthorization.objects.create(
        reader=owner, provider="sandbox", request_no="XYA-1", threshold=550
    )
    client.force_login(other.user)
    assert client.get(f"/credit/authorizations/{authorization.pk}/").status_code == 404
    assert client.get(f"/api/v1/credit/authorizations/{authorization.pk}").status_code == 404


@pytest.mark.django_db
def test_the_operator_changes_the_threshold_audited(client, operator_user):
    client.force_login(operator_user)
    page = client.get("/console/credit/")
    assert page.status_code == 200
    assert 'id="setting-sandbox"' in page.content.decode()
    response = client.post(
        "/console/credit/",
        {
            "provider": "sandbox",
            "sandbox-enabled": "on",
            "sandbox-threshold": "600",
            "sandbox-validity_days": "14",
        },
    )
    assert response.status_code == 302
    setting = ProviderSetting.objects.get(provider="sandbox")
    assert (setting.threshold, setting.validity_days, setting.enabled) == (600, 14, True)
    entry = AuditEntry.objects.get(action="credit.setting_changed")
    assert entry.detail["before"]["threshold"] == 550
    assert entry.detail["after"]["threshold"] == 600
    assert entry.detail["changed"] == ["threshold", "validity_days"]
    assert "信用服务" in client.get("/console/").content.decode()


@pytest.mark.django_db
def test_a_bad_threshold_names_the_field_and_changes_nothing(client, operator_user):
    client.force_login(operator_user)
    response = client.post(
        "/console/credit/",
        {
            "provider": "zhima",
            "zhima-enabled": "on",
            "zhima-threshold": "1000",
            "zhima-validity_days": "30",
        },
    )
    assert response.status_code == 422
    assert "准入分应为 350–950 的整数" in response.content.decode()
    assert not ProviderSetting.objects.exists()
    assert not AuditEntry.objects.filter(action="credit.setting_changed").exists()


@pytest.mark.django_db
def test_staff_and_readers_cannot_change_settings(client, hz_admin_user, hz_admin, reader):
    client.force_login(hz_admin_user)
    response = client.post(
        "/console/credit/",
        {
            "provider": "sandbox",
            "sandbox-enabled": "on",
            "sandbox-threshold": "350",
            "sandbox-validity_days": "30",
        },
    )
    assert response.status_code == 403
    from xinyue.core.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.update_provider_setting(actor=hz_admin, provider="sandbox", threshold=350)
    with pytest.raises(PermissionDenied):
        services.update_provider_setting(
            actor=reader_actor(reader), provider="sandbox", threshold=350
        )
    assert selectors.provider_setting("sandbox").threshold == 550
    assert not ProviderSetting.objects.exists()


@pytest.mark.django_db
def test_settings_through_the_api(client, operator_user):
    from xinyue.accounts.services import create_api_key
    from xinyue.core.actors import SYSTEM

    _key, token = create_api_key(actor=SYSTEM, name="ops", scope="platform")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    listed = client.get("/api/v1/credit/settings", **auth).json()
    assert [s["provider"] for s in listed] == ["sandbox", "zhima", "wechat_payscore"]
    assert [s["configured"] for s in listed] == [True, False, False]
    changed = client.patch(
        "/api/v1/credit/settings/wechat_payscore",
        {"threshold": 600},
        content_type="application/json",
        **auth,
    )
    assert changed.status_code == 200
    assert changed.json()["threshold"] == 600
    bad = client.patch(
        "/api/v1/credit/settings/wechat_payscore",
        {"threshold": 900},
        content_type="application/json",
        **auth,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"]["fields"] == {"threshold": "准入分应为 300–850 的整数"}
    public = client.get("/api/v1/credit/providers").json()
    assert public == [
        {
            "provider": "sandbox",
            "label": "信用沙箱（芝麻协议）",
            "threshold": 550,
            "validity_days": 30,
        }
    ]


def test_the_public_url_follows_the_bound_port_unless_set():
    """With XINYUE_PORT=8011, 去授权 once sent the reader to port 8000 (issue 8)."""
    from xinyue.core.management.commands.up import public_url_for

    assert public_url_for("127.0.0.1:8011", {}) == "http://127.0.0.1:8011"
    assert public_url_for("0.0.0.0:8011", {}) == "http://127.0.0.1:8011"
    assert (
        public_url_for("127.0.0.1:8011", {"XINYUE_PUBLIC_URL": "https://xinyue.example.cn/"})
        == "https://xinyue.example.cn"
    )


@pytest.mark.django_db
def test_the_authorize_form_may_go_on_to_the_providers_page(client, settings):
    """Browsers apply form-action to the redirect after the POST: the provider's origin must be
    in it, or 去授权 silently does nothing."""
    from xinyue.credit.tests.conftest import make_reader

    reader = make_reader()
    settings.CREDIT_PROVIDERS = {
        **settings.CREDIT_PROVIDERS,
        "sandbox": {
            **settings.CREDIT_PROVIDERS["sandbox"],
            "gateway_url": "http://127.0.0.1:8100/sandbox/zhima/gateway.do",
        },
    }
    client.force_login(reader.user)
    policy = client.get("/credit/")["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:8100 https://openapi.alipay.com;" in policy
    assert client.get("/")["Content-Security-Policy"].count("form-action 'self';") == 1
