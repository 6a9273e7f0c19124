"""Reader portal pages: home blocks, search (results, facets, sort, pages, empty results, hostile
input, advanced search), title detail, category browsing, and the events they record."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache

from xinyue.catalog.models import Category, Pick
from xinyue.catalog.services import curation
from xinyue.catalog.tests.portal_data import library_shelf, make_title
from xinyue.core import clock
from xinyue.core.actors import SYSTEM
from xinyue.insights.models import Event
from xinyue.insights.services import flush_events

ALIPAY_UA = "Mozilla/5.0 (iPhone) AlipayClient/10.5.0"


@pytest.fixture
def books(db, categories):
    cache.clear()
    return library_shelf()


def events(*fields: str) -> list[tuple]:
    flush_events()
    return list(Event.objects.order_by("id").values_list(*fields))


def ids_of(response) -> list[int]:
    return [t.pk for t in response.context["items"]]


# --- home -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_home_shows_curated_blocks_and_the_category_tree(client, zhejiang, books):
    now = clock.now()
    curation.create_notice(actor=SYSTEM, title="全省：国庆闭馆通知", position=0)
    curation.create_notice(actor=SYSTEM, title="杭州：新馆开放", city_code="330100", position=5)
    curation.create_notice(actor=SYSTEM, title="宁波：讲座预告", city_code="330200")
    curation.create_notice(
        actor=SYSTEM, title="已过期", starts_at=now - dt.timedelta(days=9), ends_at=now
    )
    curation.create_notice(actor=SYSTEM, title="未开始", starts_at=now + dt.timedelta(days=1))
    curation.create_notice(actor=SYSTEM, title="已停用", is_active=False)
    curation.add_pick(actor=SYSTEM, kind=Pick.Kind.EDITOR, title_id=books["weicheng"].pk)
    curation.add_pick(actor=SYSTEM, kind=Pick.Kind.EDITOR, title_id=books["baiyexing"].pk)

    response = client.get("/")

    assert response.status_code == 200
    assert [n.title for n in response.context["notices"]] == [
        "杭州：新馆开放",
        "全省：国庆闭馆通知",
    ]
    assert [t.title for t in response.context["picks"]] == ["围城", "白夜行"]
    # No new books curated yet: the newest titles in stock stand in.
    assert [t.title for t in response.context["new_books"]] == ["Python编程", "白夜行", "围城"]
    names = [c.name for c in response.context["categories"]]
    assert names[:3] == ["文学", "计算机与互联网", "国学/古籍"]
    assert len(names) == 18
    html = response.content.decode()
    assert 'href="/categories/%E5%9B%BD%E5%AD%A6/%E5%8F%A4%E7%B1%8D/"' in html  # 国学/古籍
    assert "杭州：新馆开放" in html
    assert "宁波：讲座预告" not in html

    client.get("/city/330200/")
    again = client.get("/")
    assert [n.title for n in again.context["notices"]] == ["宁波：讲座预告", "全省：国庆闭馆通知"]


@pytest.mark.django_db
def test_curated_new_books_replace_the_fallback(client, zhejiang, books):
    curation.add_pick(actor=SYSTEM, kind=Pick.Kind.NEW, title_id=books["xianyiren"].pk)
    response = client.get("/")
    assert [t.title for t in response.context["new_books"]] == ["嫌疑人X的献身"]


@pytest.mark.django_db
def test_every_portal_page_view_is_recorded(client, zhejiang, books):
    client.get("/", HTTP_USER_AGENT=ALIPAY_UA)
    client.get("/shelf/")
    assert events("type", "channel", "path") == [
        ("page_view", "alipay", "/"),
        ("page_view", "pc", "/shelf/"),
    ]


# --- search ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_search_by_author_with_highlights_facets_and_an_event(client, books):
    response = client.get("/search/", {"q": "东野圭吾"}, HTTP_USER_AGENT=ALIPAY_UA)

    assert response.status_code == 200
    assert sorted(ids_of(response)) == sorted([books["baiyexing"].pk, books["xianyiren"].pk])
    html = response.content.decode()
    assert "<mark>东野圭吾</mark>" in html
    assert "找到 2 本书" in html
    facets = {
        g["name"]: [(o["value"], o["count"]) for o in g["options"]]
        for g in response.context["facets"]
    }
    assert facets == {
        "category": [("侦探/悬疑/推理", 2)],
        "year": [(2014, 1), (2013, 1)],
        "publisher": [("南海出版公司", 2)],
    }
    assert events("type", "channel", "query", "result_count", "path") == [
        ("page_view", "alipay", "", None, "/search/"),
        ("search", "alipay", "东野圭吾", 2, "/search/"),
    ]


@pytest.mark.django_db
def test_pinyin_initials_and_isbn_with_hyphens(client, books):
    assert set(ids_of(client.get("/search/", {"q": "dygw"}))) == {
        books["baiyexing"].pk,
        books["xianyiren"].pk,
    }
    isbn = books["weicheng"].isbn13
    hyphenated = f"{isbn[:3]}-{isbn[3]}-{isbn[4:9]}-{isbn[9:12]}-{isbn[12]}"
    assert ids_of(client.get("/search/", {"q": hyphenated})) == [books["weicheng"].pk]


@pytest.mark.django_db
def test_facet_links_filter_and_filters_can_be_removed(client, books):
    response = client.get("/search/", {"q": "东野圭吾"})
    year = next(g for g in response.context["facets"] if g["name"] == "year")
    link = next(o["url"] for o in year["options"] if o["value"] == 2013)
    assert link == "/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE&year_from=2013&year_to=2013"

    filtered = client.get(link)
    assert ids_of(filtered) == [books["baiyexing"].pk]
    assert [c["label"] for c in filtered.context["filters"]] == ["2013"]
    assert (
        filtered.context["filters"][0]["url"] == "/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE"
    )


@pytest.mark.django_db
def test_sort_and_in_stock_filter(client, books):
    newest = client.get("/search/", {"q": "东野圭吾", "sort": "newest"})
    assert ids_of(newest) == [books["xianyiren"].pk, books["baiyexing"].pk]
    in_stock = client.get("/search/", {"q": "东野圭吾", "in_stock": "1"})
    assert ids_of(in_stock) == [books["baiyexing"].pk]


@pytest.mark.django_db
def test_pages_of_twenty(client, categories):
    made = [make_title(f"园艺手册 第{n}卷", year=2000 + n, stock=1) for n in range(25)]
    first = client.get("/search/", {"q": "园艺", "sort": "newest"})
    assert first.context["result"].total == 25
    assert ids_of(first) == [t.pk for t in reversed(made)][:20]
    assert first.context["pages"]["next"] == "/search/?q=%E5%9B%AD%E8%89%BA&sort=newest&page=2"
    second = client.get(first.context["pages"]["next"])
    assert ids_of(second) == [t.pk for t in reversed(made)][20:]
    assert second.context["pages"]["next"] == ""
    assert second.context["pages"]["previous"] == "/search/?q=%E5%9B%AD%E8%89%BA&sort=newest"


@pytest.mark.django_db
def test_paging_past_the_end_says_there_is_no_such_page_like_the_api(client, books):
    response = client.get("/search/", {"q": "东野圭吾", "page": "99"})
    html = response.content.decode()
    assert response.status_code == 200
    assert '<p class="total" id="result-total">找到 2 本书</p>' in html
    assert "<h2>第 99 页没有书：这次搜索的结果只有 1 页</h2>" in html
    assert (
        '<a class="button primary" href="/search/?q=%E4%B8%9C%E9%87%8E%E5%9C%AD%E5%90%BE"'
        ' id="past-end-last">看第 1 页</a>'
    ) in html
    assert "没有找到相关的书" not in html
    assert 'id="no-results"' not in html
    assert 'class="pager"' not in html
    # The API answers the same way: the true total and an empty page.
    api = client.get("/api/v1/catalog/search", {"q": "东野圭吾", "page": "99"}).json()
    assert (api["total"], api["items"]) == (2, [])


@pytest.mark.django_db
def test_an_empty_result_suggests_something_and_is_recorded(client, books):
    for n in range(3):  # three readers searched it and found something: a public suggestion
        client.get("/search/", {"q": "东野圭吾"}, REMOTE_ADDR=f"203.0.113.{n}")
    flush_events()
    cache.clear()

    response = client.get("/search/", {"q": "量子纠缠入门", "category": "文学"})

    assert response.status_code == 200
    assert response.context["result"].total == 0
    html = response.content.decode()
    assert 'id="no-results"' in html
    assert "去掉筛选条件再试" in html
    assert response.context["clear_filters_url"] == (
        "/search/?q=%E9%87%8F%E5%AD%90%E7%BA%A0%E7%BC%A0%E5%85%A5%E9%97%A8"
    )
    assert response.context["popular_terms"] == ["东野圭吾"]
    assert events("type", "query", "result_count")[-1] == ("search", "量子纠缠入门", 0)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        '"围城',
        "围城 AND OR NOT NEAR(",
        "title:围城 *",
        "📚🔥 围城 😀",
        "围" * 1000,
        "'; DROP TABLE catalog_title; --",
        "\x00\x1f<script>",
        "-",
    ],
)
def test_hostile_input_never_fails(client, books, query):
    response = client.get("/search/", {"q": query, "page": "abc", "year_from": "x", "sort": "rm"})
    assert response.status_code == 200
    assert "<script>" not in response.content.decode().split("<main", 1)[1]


@pytest.mark.django_db
def test_odd_parameters_are_dropped_not_errors(client, books):
    response = client.get(
        "/search/",
        {"q": "围城", "page": "99999", "year_from": "1800", "year_to": "3000", "in_stock": "maybe"},
    )
    assert response.status_code == 200
    params = response.context["params"]
    assert (params.page, params.year_from, params.year_to, params.in_stock) == (
        1,
        1800,
        None,
        False,
    )


@pytest.mark.django_db
def test_advanced_search_per_field(client, books):
    page = client.get("/search/advanced/")
    assert page.status_code == 200
    html = page.content.decode()
    for name in (
        'name="title"',
        'name="author"',
        'name="isbn"',
        'name="publisher"',
        'name="in_stock"',
    ):
        assert name in html
    assert "侦探/悬疑/推理" in html  # the category tree, sub-categories included

    by_author = client.get("/search/", {"author": "东野圭吾", "year_from": "2014"})
    assert ids_of(by_author) == [books["xianyiren"].pk]
    by_title_word = client.get("/search/", {"title": "东野圭吾"})
    assert ids_of(by_title_word) == []
    by_publisher = client.get("/search/", {"q": "东野圭吾", "publisher": "南海出版公司"})
    assert len(ids_of(by_publisher)) == 2


@pytest.mark.django_db
def test_search_without_words(client, books):
    start = client.get("/search/")
    assert start.status_code == 200
    assert "拼音" in start.content.decode()
    browse = client.get("/search/", {"category": "文学"})
    assert browse.status_code == 302
    assert browse["Location"] == "/categories/%E6%96%87%E5%AD%A6/"
    assert events("type") == [("page_view",), ("page_view",)]


@pytest.mark.django_db
def test_titles_are_escaped_everywhere(client, categories):
    evil = make_title("<script>alert(1)</script>围城外传", authors=["<b>某人</b>"], stock=1)
    results = client.get("/search/", {"q": "围城"}).content.decode()
    detail = client.get(f"/titles/{evil.pk}/").content.decode()
    for html in (results, detail):
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        assert "<b>某人</b>" not in html


# --- title detail -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_title_detail_shows_metadata_offers_and_records_a_click(client, books):
    title = books["python"]
    make_title("别的书", stock=1)
    response = client.get(f"/titles/{title.pk}/", HTTP_USER_AGENT="MicroMessenger/8.0")

    assert response.status_code == 200
    html = response.content.decode()
    for text in ("Python编程", "从入门到实践", "埃里克·马瑟斯", "人民邮电出版社", "2016", "¥89.00",
                 "计算机与互联网 › 编程语言", title.isbn13, "浙江省新华书店", "有货：共 12 册可借",
                 "加入书架"):  # fmt: skip
        assert text in html, text
    assert 'class="cover placeholder tone-' in html  # no cover image: a generated one
    assert events("type", "channel", "title_id", "path")[-1] == (
        "click",
        "wechat",
        title.pk,
        f"/titles/{title.pk}/",
    )


@pytest.mark.django_db
def test_out_of_stock_and_missing_titles(client, books, categories):
    sold_out = client.get(f"/titles/{books['xianyiren'].pk}/").content.decode()
    assert "暂无库存" in sold_out
    withdrawn = make_title("下架的书", is_active=False)
    assert client.get(f"/titles/{withdrawn.pk}/").status_code == 404
    assert client.get("/titles/999999/").status_code == 404
    assert events("type") == [("page_view",), ("click",)]


# --- categories -----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_top_category_lists_its_sub_categories_titles(client, books):
    response = client.get("/categories/文学/")
    assert response.status_code == 200
    titles = [t.title for t in response.context["page"].object_list]
    assert titles == ["嫌疑人X的献身", "白夜行", "围城"]  # newest first
    assert "侦探/悬疑/推理" in [c.name for c in response.context["children"]]


@pytest.mark.django_db
def test_a_sub_category_whose_name_has_a_slash(client, books):
    response = client.get("/categories/侦探/悬疑/推理/")
    assert response.status_code == 200
    assert [t.title for t in response.context["page"].object_list] == ["嫌疑人X的献身", "白夜行"]
    assert "文学" in response.content.decode()  # breadcrumbs up to the parent


@pytest.mark.django_db
def test_a_category_by_id_redirects_to_its_name_and_unknown_is_404(client, categories):
    category = Category.objects.get(name="历史")
    response = client.get(f"/categories/{category.pk}/")
    assert response.status_code == 301
    assert response["Location"] == "/categories/%E5%8E%86%E5%8F%B2/"
    assert client.get("/categories/没有这个分类/").status_code == 404
