"""Curation by the operator: the category tree, editor's picks, new books and notices, through
the services and the console pages; refusals change nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from xinyue.catalog.errors import CategoryNameTaken, CategoryNotEmpty, PickExists, TitleNotFound
from xinyue.catalog.models import Category, Notice, Pick
from xinyue.catalog.services import curation
from xinyue.catalog.tests.portal_data import library_shelf
from xinyue.core import clock
from xinyue.core.errors import InvalidInput, PermissionDenied
from xinyue.core.models import AuditEntry


@pytest.fixture
def books(db, categories):
    return library_shelf()


def tree() -> list[tuple[str, str | None]]:
    return list(Category.objects.order_by("id").values_list("name", "parent__name"))


def pick_titles(kind: str) -> list[tuple[str, int, bool]]:
    return list(
        Pick.objects.filter(kind=kind)
        .order_by("position")
        .values_list("title__title", "position", "is_active")
    )


# --- the category tree ------------------------------------------------------------------------


@pytest.mark.django_db
def test_categories_are_two_levels_with_unique_names(operator, categories):
    top = curation.create_category(actor=operator, name="  地方文献 ", show_on_home=True)
    sub = curation.create_category(actor=operator, name="浙江地方志", parent_id=top.pk)
    assert (top.name, top.parent_id, top.show_on_home) == ("地方文献", None, True)
    assert (sub.parent_id, sub.show_on_home, sub.position) == (top.pk, False, 0)
    before = tree()

    with pytest.raises(CategoryNameTaken):
        curation.create_category(actor=operator, name="文学")
    with pytest.raises(InvalidInput) as third_level:
        curation.create_category(actor=operator, name="杭州", parent_id=sub.pk)
    assert third_level.value.fields == {"parent": "分类只有两级：上级须是一级分类"}
    with pytest.raises(InvalidInput) as empty:
        curation.create_category(actor=operator, name="   ")
    assert empty.value.fields == {"name": "请填写分类名称"}
    with pytest.raises(InvalidInput):
        curation.update_category(
            actor=operator, category=top, parent_id=Category.objects.get(name="文学").pk
        )
    assert tree() == before


@pytest.mark.django_db
def test_rename_move_and_delete(operator, books):
    category = curation.create_category(actor=operator, name="临时")
    moved = curation.update_category(
        actor=operator,
        category=category,
        name="网络文学",
        parent_id=Category.objects.get(name="文学").pk,
        show_on_home=True,
    )
    assert (moved.name, moved.parent.name, moved.show_on_home) == ("网络文学", "文学", False)
    assert AuditEntry.objects.filter(action="category.updated").get().detail["changes"]["name"] == [
        "临时",
        "网络文学",
    ]

    literature = Category.objects.get(name="侦探/悬疑/推理")
    with pytest.raises(CategoryNotEmpty):
        curation.delete_category(actor=operator, category=literature)  # has titles
    with pytest.raises(CategoryNotEmpty):
        curation.delete_category(actor=operator, category=Category.objects.get(name="文学"))
    curation.delete_category(actor=operator, category=moved)
    assert not Category.objects.filter(name="网络文学").exists()
    assert Category.objects.filter(name="侦探/悬疑/推理").exists()


@pytest.mark.django_db
def test_only_the_operator_curates(hz_admin, categories, books):
    count = Category.objects.count()
    with pytest.raises(PermissionDenied):
        curation.create_category(actor=hz_admin, name="本馆特藏")
    with pytest.raises(PermissionDenied):
        curation.add_pick(actor=hz_admin, kind="editor", title_id=books["weicheng"].pk)
    with pytest.raises(PermissionDenied):
        curation.create_notice(actor=hz_admin, title="通知")
    assert Category.objects.count() == count
    assert Pick.objects.count() == 0
    assert Notice.objects.count() == 0


@pytest.mark.django_db
def test_console_category_pages(logged_in, operator_user, categories):
    client = logged_in(operator_user)
    page = client.get("/console/catalog/categories/")
    assert page.status_code == 200
    assert "散文/随笔/书信" in page.content.decode()
    parent = Category.objects.get(name="社会科学")
    created = client.post(
        "/console/catalog/categories/", {"name": "城市研究", "parent": parent.pk, "position": "9"}
    )
    assert created.status_code == 302
    new = Category.objects.get(name="城市研究")
    assert (new.parent_id, new.position) == (parent.pk, 9)

    taken = client.post("/console/catalog/categories/", {"name": "历史"})
    assert taken.status_code == 422
    assert "分类名称已被使用" in taken.content.decode()

    edit = client.post(
        f"/console/catalog/categories/{new.pk}/",
        {"name": "城市与社区", "parent": parent.pk, "position": "1"},
    )
    assert edit.status_code == 302
    new.refresh_from_db()
    assert (new.name, new.position) == ("城市与社区", 1)
    client.post(f"/console/catalog/categories/{new.pk}/", {"action": "delete"})
    assert not Category.objects.filter(pk=new.pk).exists()


@pytest.mark.django_db
def test_library_staff_cannot_open_curation_pages(logged_in, hz_admin_user, categories):
    client = logged_in(hz_admin_user)
    for path in (
        "/console/catalog/categories/",
        "/console/catalog/picks/editor/",
        "/console/catalog/notices/",
        "/console/catalog/import/",
    ):
        assert client.get(path).status_code == 403, path
    assert client.post("/console/catalog/categories/", {"name": "x"}).status_code == 403
    assert not Category.objects.filter(name="x").exists()


@pytest.mark.django_db
def test_the_console_nav_links_curation_for_the_operator(logged_in, operator_user):
    html = logged_in(operator_user).get("/console/").content.decode()
    for label in ("图书分类", "主编推荐", "新书推荐", "通知", "书目导入", "检索词"):
        assert label in html


# --- picks ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_picks_in_order_move_hide_and_remove(operator, books):
    for key in ("weicheng", "baiyexing", "python"):
        curation.add_pick(actor=operator, kind="editor", title_id=books[key].pk)
    assert pick_titles("editor") == [
        ("围城", 0, True),
        ("白夜行", 1, True),
        ("Python编程", 2, True),
    ]
    with pytest.raises(PickExists):
        curation.add_pick(actor=operator, kind="editor", title_id=books["weicheng"].pk)
    with pytest.raises(TitleNotFound):
        curation.add_pick(actor=operator, kind="editor", title_id=999999)

    python = Pick.objects.get(kind="editor", title=books["python"])
    curation.move_pick(actor=operator, pick=python, offset=-1)
    assert [t for t, _p, _a in pick_titles("editor")] == ["围城", "Python编程", "白夜行"]
    curation.move_pick(actor=operator, pick=Pick.objects.get(title=books["weicheng"]), offset=-1)
    assert [t for t, _p, _a in pick_titles("editor")] == ["围城", "Python编程", "白夜行"]

    curation.set_pick_active(actor=operator, pick=python, active=False)
    curation.remove_pick(actor=operator, pick=Pick.objects.get(title=books["weicheng"]))
    assert pick_titles("editor") == [("Python编程", 0, False), ("白夜行", 1, True)]
    # The same title may be both an editor's pick and a new book.
    curation.add_pick(actor=operator, kind="new", title_id=books["python"].pk)
    assert pick_titles("new") == [("Python编程", 0, True)]
    assert list(
        AuditEntry.objects.filter(action__startswith="pick.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["pick.added"] * 3 + ["pick.moved", "pick.hidden", "pick.removed", "pick.added"]


@pytest.mark.django_db
def test_console_picks_by_isbn_and_the_home_page_follows(client, logged_in, operator_user, books):
    console = logged_in(operator_user)
    isbn = books["baiyexing"].isbn13
    response = console.post(
        "/console/catalog/picks/editor/", {"title": f"{isbn[:3]}-{isbn[3:12]}-{isbn[12]}"}
    )
    assert response.status_code == 302
    console.post("/console/catalog/picks/editor/", {"title": str(books["weicheng"].pk)})
    missing = console.post("/console/catalog/picks/editor/", {"title": "9787000000000"})
    assert missing.status_code == 422
    assert "找不到该书目" in missing.content.decode()
    again = console.post("/console/catalog/picks/editor/", {"title": isbn})
    assert "该书已在推荐列表中" in again.content.decode()
    assert [t for t, _p, _a in pick_titles("editor")] == ["白夜行", "围城"]

    weicheng = Pick.objects.get(title=books["weicheng"])
    console.post(f"/console/catalog/picks/editor/{weicheng.pk}/up/")
    assert [t.title for t in console.get("/").context["picks"]] == ["围城", "白夜行"]
    console.post(f"/console/catalog/picks/editor/{weicheng.pk}/hide/")
    assert [t.title for t in console.get("/").context["picks"]] == ["白夜行"]
    assert console.get(f"/console/catalog/picks/editor/{weicheng.pk}/up/").status_code == 405
    assert console.post(f"/console/catalog/picks/bogus/{weicheng.pk}/up/").status_code == 404
    assert console.post(f"/console/catalog/picks/new/{weicheng.pk}/up/").status_code == 404

    page = console.get("/console/catalog/picks/new/")
    assert page.status_code == 200
    assert "新书推荐" in page.content.decode()


# --- notices --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_notice_rules(operator, zhejiang):
    now = clock.now()
    with pytest.raises(InvalidInput) as bad:
        curation.create_notice(
            actor=operator,
            title="",
            city_code="999900",
            starts_at=now,
            ends_at=now - dt.timedelta(hours=1),
        )
    assert bad.value.fields == {
        "title": "请填写标题",
        "city_code": "不是本省的地级市代码",
        "ends_at": "结束时间须晚于开始时间",
    }
    with pytest.raises(InvalidInput):
        curation.create_notice(actor=operator, title="区县馆通知", city_code="330106")
    assert Notice.objects.count() == 0
    notice = curation.create_notice(actor=operator, title="  端午 活动 ", city_code="330100")
    assert (notice.title, notice.city_code, notice.is_active) == ("端午 活动", "330100", True)


@pytest.mark.django_db
def test_console_notices_publish_edit_and_delete(logged_in, operator_user, zhejiang):
    client = logged_in(operator_user)
    response = client.post(
        "/console/catalog/notices/",
        {
            "title": "杭州图书馆春节开放时间",
            "body": "除夕闭馆。",
            "city_code": "330100",
            "starts_at": "2026-01-01T09:00",
            "ends_at": "",
            "position": "0",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert notice.starts_at == dt.datetime(2026, 1, 1, 9, 0, tzinfo=clock.PLATFORM_TZ)
    listing = client.get("/console/catalog/notices/").content.decode()
    assert "杭州图书馆春节开放时间" in listing
    assert "显示中" in listing

    bad = client.post(
        f"/console/catalog/notices/{notice.pk}/",
        {
            "title": "杭州图书馆春节开放时间",
            "city_code": "330100",
            "starts_at": "2026-01-01T09:00",
            "ends_at": "2025-12-01T09:00",
            "position": "0",
        },
    )
    assert bad.status_code == 422
    assert "结束时间须晚于开始时间" in bad.content.decode()
    notice.refresh_from_db()
    assert notice.ends_at is None
    assert notice.is_active

    client.post(
        f"/console/catalog/notices/{notice.pk}/",
        {"title": "新标题", "city_code": "", "starts_at": "2026-01-01T09:00", "position": "3"},
    )
    notice.refresh_from_db()
    assert (notice.title, notice.city_code, notice.position, notice.is_active) == (
        "新标题",
        "",
        3,
        False,
    )
    client.post(f"/console/catalog/notices/{notice.pk}/", {"action": "delete"})
    assert Notice.objects.count() == 0
    assert list(
        AuditEntry.objects.filter(action__startswith="notice.")
        .order_by("id")
        .values_list("action", flat=True)
    ) == ["notice.created", "notice.updated", "notice.deleted"]
