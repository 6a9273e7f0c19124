from __future__ import annotations

import pytest

CITIES = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水"]


@pytest.mark.django_db
def test_home_page_has_the_seed_layout(client, zhejiang):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "信阅" in html
    assert 'name="q"' in html
    assert "高级搜索" in html
    for city in CITIES:
        assert city in html
    for section in (
        'id="notices"',
        'id="picks"',
        'id="categories"',
        'id="new-books"',
        'id="shelf-count"',
    ):
        assert section in html
    assert "登录" in html


@pytest.mark.django_db
def test_city_switcher_remembers_the_city(client, zhejiang):
    client.get("/city/330200/")
    html = client.get("/").content.decode()
    assert "城市：宁波图书馆" in html
    assert "宁波市鄞州区图书馆" in html or "鄞州" in html
    client.get("/city/999999/")  # unknown city: ignored
    assert "城市：宁波图书馆" in client.get("/").content.decode()


@pytest.mark.django_db
def test_english_switch(client):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert client.get("/").status_code == 200


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_page_renders_in_chromium(page, zhejiang):
    page.goto("/")
    assert page.locator(".logo").inner_text() == "信阅"
    assert page.locator(".city-list li").count() == 11
    page.get_by_role("link", name="宁波").click()
    page.wait_for_url("**/")
    assert "宁波" in page.locator(".cities h2").inner_text()
