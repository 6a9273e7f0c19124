"""404, 403 and 500 wear the site's frame, in the visitor's language, with a way back (DEBUG off,
as in production)."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def html_of(response, status: int) -> str:
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    return response.content.decode()


@pytest.mark.django_db
def test_404_in_chinese_with_the_frame_and_ways_back(client):
    html = html_of(client.get("/no-such-page/"), 404)
    assert VIEWPORT in html
    assert '<html lang="zh-CN">' in html
    assert "<title>页面不存在 · 浙江省公共图书馆信用服务平台</title>" in html
    assert '<header class="topbar">' in html
    assert '<a class="button primary" href="/" id="error-back-home">返回首页</a>' in html
    assert 'href="/search/" id="error-search">找书</a>' in html
    assert "Not Found" not in html


@pytest.mark.django_db
def test_404_in_english_for_an_english_reader():
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    html = html_of(client.get("/no-such-page/"), 404)
    assert '<html lang="en">' in html
    assert "<h1>Page not found</h1>" in html
    assert 'id="error-back-home">Back to the home page</a>' in html
    assert "页面不存在" not in html
    accept = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.9")
    assert "<h1>Page not found</h1>" in html_of(accept.get("/nope/"), 404)


@pytest.mark.django_db
def test_403_says_why_and_leads_back_to_the_console(logged_in, hz_desk_user):
    client = logged_in(hz_desk_user)
    html = html_of(client.get("/console/audit/"), 403)
    assert VIEWPORT in html
    assert "<h1>无权访问此页面</h1>" in html
    assert '<p class="hint" id="error-reason">只有平台运营方可以执行此操作</p>' in html
    assert 'href="/console/" id="error-console">返回管理台</a>' in html
    assert "403 Forbidden" not in html


@pytest.mark.django_db
@pytest.mark.urls("xinyue.core.tests.urls_failing")
def test_500_has_the_frame_and_no_details():
    client = Client(raise_request_exception=False)
    html = html_of(client.get("/failing/"), 500)
    assert VIEWPORT in html
    assert "<h1>服务暂时出错</h1>" in html
    assert 'id="error-back-home">返回首页</a>' in html
    assert "a bug" not in html
    assert "RuntimeError" not in html
    english = Client(raise_request_exception=False, HTTP_ACCEPT_LANGUAGE="en")
    assert "<h1>Something went wrong on our side</h1>" in html_of(english.get("/failing/"), 500)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_404_on_a_phone_fits_the_screen_and_leads_home(page, live_server, settings):
    settings.DEBUG = False
    response = page.goto("/no-such-page/")
    assert response.status == 404
    assert page.locator("h1").inner_text() == "页面不存在"
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    home = page.locator("#error-back-home")
    box = home.bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    with page.expect_navigation():
        home.click()
    assert page.url == live_server.url + "/"
    assert page.locator(".topbar .brand").is_visible()


@pytest.mark.django_db
def test_a_form_sent_without_its_csrf_cookie_says_what_to_do():
    client = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    html = html_of(client.post("/reader/login/", {"id_number": "x", "password": "y"}), 403)
    assert VIEWPORT in html
    assert "<h1>页面已过期，请重新提交</h1>" in html
    assert 'id="error-back-home">返回首页</a>' in html
