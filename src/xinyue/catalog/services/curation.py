"""Curation by the operator: the category tree, editor's picks (主编推荐), new books (新书推荐)
and notices (通知) shown on the portal's home page."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from xinyue.catalog.errors import (
    CategoryNameTaken,
    CategoryNotEmpty,
    PickExists,
    TitleNotFound,
)
from xinyue.catalog.models import Category, Notice, Pick, Title
from xinyue.catalog.services.indexing import catalog_changed
from xinyue.core import audit, clock
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_operator
from xinyue.libraries.models import Library

CATEGORY_NAME_MAX = 40
NOTICE_TITLE_MAX = 120
NOTICE_BODY_MAX = 2000
UNSET: Any = object()


# --- the category tree ------------------------------------------------------------------------


def _clean_category_name(name: str, *, exclude_pk: int | None = None) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(fields={"name": _("请填写分类名称")})
    if len(name) > CATEGORY_NAME_MAX:
        raise InvalidInput(fields={"name": _("分类名称最多 %(n)d 个字") % {"n": CATEGORY_NAME_MAX}})
    if "›" in name:
        raise InvalidInput(fields={"name": _("分类名称不能含“›”")})
    taken = Category.objects.filter(name=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise CategoryNameTaken(name=name)
    return name


def _clean_parent(parent_id: int | None, *, category: Category | None = None) -> Category | None:
    if parent_id is None:
        return None
    parent = Category.objects.filter(pk=parent_id).first()
    if parent is None:
        raise InvalidInput(fields={"parent": _("上级分类不存在")})
    if parent.parent_id is not None:
        raise InvalidInput(fields={"parent": _("分类只有两级：上级须是一级分类")})
    if category is not None:
        if parent.pk == category.pk:
            raise InvalidInput(fields={"parent": _("不能把分类放在自己下面")})
        if category.children.exists():
            raise InvalidInput(fields={"parent": _("有子分类的分类只能是一级分类")})
    return parent


@transaction.atomic
def create_category(
    *,
    actor: Actor,
    name: str,
    parent_id: int | None = None,
    position: int | None = None,
    show_on_home: bool = False,
) -> Category:
    require_operator(actor)
    name = _clean_category_name(name)
    parent = _clean_parent(parent_id)
    if position is None:
        last = Category.objects.filter(parent=parent).aggregate(m=Max("position"))["m"]
        position = 0 if last is None else last + 1
    category = Category.objects.create(
        name=name,
        parent=parent,
        position=position,
        show_on_home=show_on_home and parent is None,
    )
    catalog_changed()  # a new name the category filter knows
    audit.record(
        actor=actor,
        action="category.created",
        obj=category,
        name=name,
        parent=parent.name if parent else "",
    )
    return category


@transaction.atomic
def update_category(
    *,
    actor: Actor,
    category: Category,
    name: str = UNSET,
    parent_id: int | None = UNSET,
    position: int = UNSET,
    show_on_home: bool = UNSET,
) -> Category:
    """Rename, move (between levels, keeping two), reorder or show/hide on the home page."""
    require_operator(actor)
    category = Category.objects.select_for_update().get(pk=category.pk)
    before = {
        "name": category.name,
        "parent_id": category.parent_id,
        "position": category.position,
        "show_on_home": category.show_on_home,
    }
    if name is not UNSET:
        category.name = _clean_category_name(name, exclude_pk=category.pk)
    if parent_id is not UNSET:
        category.parent = _clean_parent(parent_id, category=category)
    if position is not UNSET:
        if position < 0 or position > 32767:
            raise InvalidInput(fields={"position": _("排序应为 0–32767")})
        category.position = position
    if show_on_home is not UNSET:
        category.show_on_home = bool(show_on_home)
    if category.parent_id is not None:
        category.show_on_home = False  # the home page shows top categories only
    after = {
        "name": category.name,
        "parent_id": category.parent_id,
        "position": category.position,
        "show_on_home": category.show_on_home,
    }
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        category.save()
        catalog_changed()  # facet names, the category filter's sub-categories
        audit.record(actor=actor, action="category.updated", obj=category, changes=changes)
    return category


@transaction.atomic
def delete_category(*, actor: Actor, category: Category) -> None:
    """Only an empty category goes: no sub-categories, no titles (move them first)."""
    require_operator(actor)
    if category.children.exists() or Title.objects.filter(category=category).exists():
        raise CategoryNotEmpty(name=category.name)
    audit.record(actor=actor, action="category.deleted", obj=category, name=category.name)
    category.delete()
    catalog_changed()


# --- editor's picks and new books ------------------------------------------------------------


def _renumber(kind: str) -> list[Pick]:
    picks = list(Pick.objects.select_for_update().filter(kind=kind).order_by("position", "id"))
    for index, pick in enumerate(picks):
        if pick.position != index:
            pick.position = index
            pick.save(update_fields=["position", "updated_at"])
    return picks


@transaction.atomic
def add_pick(*, actor: Actor, kind: str, title_id: int) -> Pick:
    """Append a title to the editor's picks or the new books (at the end of the list)."""
    require_operator(actor)
    if kind not in Pick.Kind.values:
        raise InvalidInput(fields={"kind": _("应为 editor 或 new")})
    title = Title.objects.filter(pk=title_id, is_active=True).first()
    if title is None:
        raise TitleNotFound(title_id=title_id)
    if Pick.objects.filter(kind=kind, title=title).exists():
        raise PickExists(title_id=title.pk)
    picks = _renumber(kind)
    pick = Pick.objects.create(kind=kind, title=title, position=len(picks))
    audit.record(actor=actor, action="pick.added", obj=pick, kind=kind, title_id=title.pk)
    return pick


@transaction.atomic
def remove_pick(*, actor: Actor, pick: Pick) -> None:
    require_operator(actor)
    audit.record(
        actor=actor, action="pick.removed", obj=pick, kind=pick.kind, title_id=pick.title_id
    )
    kind = pick.kind
    pick.delete()
    _renumber(kind)


@transaction.atomic
def move_pick(*, actor: Actor, pick: Pick, offset: int) -> Pick:
    """Move a pick up (offset −1) or down (+1) the list; at either end nothing changes."""
    require_operator(actor)
    picks = _renumber(pick.kind)
    index = next(i for i, p in enumerate(picks) if p.pk == pick.pk)
    target = index + offset
    if offset == 0 or not 0 <= target < len(picks):
        return picks[index]
    moved = picks.pop(index)
    picks.insert(target, moved)
    for position, item in enumerate(picks):
        if item.position != position:
            item.position = position
            item.save(update_fields=["position", "updated_at"])
    audit.record(
        actor=actor,
        action="pick.moved",
        obj=moved,
        kind=moved.kind,
        title_id=moved.title_id,
        position=[index, target],
    )
    return moved


@transaction.atomic
def set_pick_active(*, actor: Actor, pick: Pick, active: bool) -> Pick:
    require_operator(actor)
    if pick.is_active != active:
        pick.is_active = active
        pick.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor,
            action="pick.shown" if active else "pick.hidden",
            obj=pick,
            kind=pick.kind,
            title_id=pick.title_id,
        )
    return pick


# --- notices ---------------------------------------------------------------------------------


def _clean_notice(
    *,
    title: str,
    body: str,
    city_code: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    position: int,
) -> dict[str, Any]:
    errors: dict[str, str] = {}
    title = " ".join((title or "").split())
    body = (body or "").strip()
    city_code = (city_code or "").strip()
    if not title:
        errors["title"] = _("请填写标题")
    elif len(title) > NOTICE_TITLE_MAX:
        errors["title"] = _("标题最多 %(n)d 个字") % {"n": NOTICE_TITLE_MAX}
    if len(body) > NOTICE_BODY_MAX:
        errors["body"] = _("内容最多 %(n)d 个字") % {"n": NOTICE_BODY_MAX}
    if city_code and not Library.objects.filter(code=city_code, level=Library.Level.CITY).exists():
        errors["city_code"] = _("不是本省的地级市代码")
    starts_at = starts_at or clock.now()
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        errors["starts_at"] = _("时间须带时区")
    elif ends_at is not None and ends_at <= starts_at:
        errors["ends_at"] = _("结束时间须晚于开始时间")
    if not 0 <= position <= 32767:
        errors["position"] = _("排序应为 0–32767")
    if errors:
        raise InvalidInput(fields=errors)
    return {
        "title": title,
        "body": body,
        "city_code": city_code,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "position": position,
    }


@transaction.atomic
def create_notice(
    *,
    actor: Actor,
    title: str,
    body: str = "",
    city_code: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime | None = None,
    position: int = 0,
    is_active: bool = True,
) -> Notice:
    """A notice for the whole province (blank ``city_code``) or one city's readers."""
    require_operator(actor)
    fields = _clean_notice(
        title=title,
        body=body,
        city_code=city_code,
        starts_at=starts_at,
        ends_at=ends_at,
        position=position,
    )
    notice = Notice.objects.create(**fields, is_active=is_active)
    audit.record(
        actor=actor, action="notice.created", obj=notice, title=notice.title, city=city_code
    )
    return notice


@transaction.atomic
def update_notice(
    *,
    actor: Actor,
    notice: Notice,
    title: str,
    body: str,
    city_code: str,
    starts_at: dt.datetime | None,
    ends_at: dt.datetime | None,
    position: int,
    is_active: bool,
) -> Notice:
    require_operator(actor)
    fields = _clean_notice(
        title=title,
        body=body,
        city_code=city_code,
        starts_at=starts_at,
        ends_at=ends_at,
        position=position,
    )
    fields["is_active"] = is_active
    changed = [k for k, v in fields.items() if getattr(notice, k) != v]
    if changed:
        for key, value in fields.items():
            setattr(notice, key, value)
        notice.save()
        audit.record(actor=actor, action="notice.updated", obj=notice, fields=changed)
    return notice


@transaction.atomic
def delete_notice(*, actor: Actor, notice: Notice) -> None:
    require_operator(actor)
    audit.record(actor=actor, action="notice.deleted", obj=notice, title=notice.title)
    notice.delete()
