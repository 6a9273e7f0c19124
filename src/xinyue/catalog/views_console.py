"""Operator console pages of the catalog: the category tree, editor's picks, new books,
notices, and catalog import by upload. Thin: every change is a ``services`` call."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from xinyue.accounts.console import apply_domain_error, console_view, render_console
from xinyue.catalog.forms import CategoryForm, ImportForm, NoticeForm, PickForm
from xinyue.catalog.models import Category, Notice, Pick
from xinyue.catalog.selectors import portal
from xinyue.catalog.services import curation
from xinyue.core.errors import DomainError
from xinyue.core.permissions import require_operator

PICK_KINDS = {"editor": Pick.Kind.EDITOR, "new": Pick.Kind.NEW}


# --- categories -----------------------------------------------------------------------------


@console_view
def categories(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    form = CategoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            category = curation.create_category(
                actor=request.actor,
                name=data["name"],
                parent_id=data["parent"].pk if data["parent"] else None,
                position=data["position"],
                show_on_home=data["show_on_home"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已添加分类 %(name)s") % {"name": category.path})
            return redirect("catalog:console_categories")
    return render_console(
        request,
        "catalog/console/categories.html",
        {"tree": portal.category_tree(), "form": form},
        status=422 if form.errors else 200,
    )


@console_view
def category_edit(request: HttpRequest, category_id: int) -> HttpResponse:
    require_operator(request.actor)
    category = get_object_or_404(Category.objects.select_related("parent"), pk=category_id)
    initial = {
        "name": category.name,
        "parent": category.parent_id,
        "position": category.position,
        "show_on_home": category.show_on_home,
    }
    form = CategoryForm(request.POST or None, initial=initial)
    form.fields["parent"].queryset = form.fields["parent"].queryset.exclude(pk=category.pk)
    if request.method == "POST" and request.POST.get("action") == "delete":
        try:
            curation.delete_category(actor=request.actor, category=category)
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect("catalog:console_category", category_id=category.pk)
        messages.success(request, _("已删除分类 %(name)s") % {"name": category.name})
        return redirect("catalog:console_categories")
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            curation.update_category(
                actor=request.actor,
                category=category,
                name=data["name"],
                parent_id=data["parent"].pk if data["parent"] else None,
                position=data["position"] if data["position"] is not None else category.position,
                show_on_home=data["show_on_home"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("catalog:console_categories")
    return render_console(
        request,
        "catalog/console/category_edit.html",
        {
            "category": category,
            "form": form,
            "title_count": category.titles.count(),
            "child_count": category.children.count(),
        },
        status=422 if form.errors else 200,
    )


# --- picks ----------------------------------------------------------------------------------


def _kind(kind: str) -> str:
    if kind not in PICK_KINDS:
        raise Http404
    return PICK_KINDS[kind]


@console_view
def picks(request: HttpRequest, kind: str) -> HttpResponse:
    require_operator(request.actor)
    kind = _kind(kind)
    form = PickForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        title = portal.title_by_isbn_or_id(form.cleaned_data["title"])
        if title is None:
            form.add_error("title", _("找不到该书目：请输入有效的 ISBN 或书目编号"))
        else:
            try:
                curation.add_pick(actor=request.actor, kind=kind, title_id=title.pk)
            except DomainError as exc:
                apply_domain_error(form, exc)
            else:
                messages.success(request, _("已加入：%(title)s") % {"title": title.title})
                return redirect("catalog:console_picks", kind=kind)
    rows = list(Pick.objects.filter(kind=kind).select_related("title").order_by("position", "id"))
    return render_console(
        request,
        "catalog/console/picks.html",
        {
            "kind": kind,
            "kind_label": Pick.Kind(kind).label,
            "picks": rows,
            "form": form,
        },
        status=422 if form.errors else 200,
    )


@console_view
@require_POST
def pick_action(request: HttpRequest, kind: str, pick_id: int, action: str) -> HttpResponse:
    require_operator(request.actor)
    kind = _kind(kind)
    pick = get_object_or_404(Pick, pk=pick_id, kind=kind)
    actor = request.actor
    if action == "up":
        curation.move_pick(actor=actor, pick=pick, offset=-1)
    elif action == "down":
        curation.move_pick(actor=actor, pick=pick, offset=1)
    elif action == "hide":
        curation.set_pick_active(actor=actor, pick=pick, active=False)
    elif action == "show":
        curation.set_pick_active(actor=actor, pick=pick, active=True)
    elif action == "remove":
        curation.remove_pick(actor=actor, pick=pick)
        messages.success(request, _("已移除"))
    else:
        raise Http404
    return redirect("catalog:console_picks", kind=kind)


# --- notices --------------------------------------------------------------------------------


def _notice_values(data: dict) -> dict:
    return {
        "title": data["title"],
        "body": data["body"],
        "city_code": data["city_code"],
        "starts_at": data["starts_at"],
        "ends_at": data["ends_at"],
        "position": data["position"],
    }


@console_view
def notices(request: HttpRequest) -> HttpResponse:
    require_operator(request.actor)
    form = NoticeForm(request.POST or None, initial={"is_active": True, "position": 0})
    if request.method == "POST" and form.is_valid():
        try:
            curation.create_notice(
                actor=request.actor,
                **_notice_values(form.cleaned_data),
                is_active=form.cleaned_data["is_active"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已发布通知"))
            return redirect("catalog:console_notices")
    cities = dict(form.fields["city_code"].choices)
    rows = list(Notice.objects.order_by("-is_active", "position", "-starts_at", "id"))
    now = timezone.now()
    for notice in rows:
        notice.scope = cities.get(notice.city_code, notice.city_code)
        notice.in_force = (
            notice.is_active
            and notice.starts_at <= now
            and (notice.ends_at is None or notice.ends_at > now)
        )
    return render_console(
        request,
        "catalog/console/notices.html",
        {"notices": rows, "form": form},
        status=422 if form.errors else 200,
    )


@console_view
def notice_edit(request: HttpRequest, notice_id: int) -> HttpResponse:
    require_operator(request.actor)
    notice = get_object_or_404(Notice, pk=notice_id)
    if request.method == "POST" and request.POST.get("action") == "delete":
        curation.delete_notice(actor=request.actor, notice=notice)
        messages.success(request, _("已删除通知"))
        return redirect("catalog:console_notices")
    initial = {
        "title": notice.title,
        "body": notice.body,
        "city_code": notice.city_code,
        "starts_at": timezone.localtime(notice.starts_at),
        "ends_at": timezone.localtime(notice.ends_at) if notice.ends_at else None,
        "position": notice.position,
        "is_active": notice.is_active,
    }
    form = NoticeForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            curation.update_notice(
                actor=request.actor,
                notice=notice,
                **_notice_values(form.cleaned_data),
                is_active=form.cleaned_data["is_active"],
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
        else:
            messages.success(request, _("已保存"))
            return redirect("catalog:console_notices")
    return render_console(
        request,
        "catalog/console/notice_edit.html",
        {"notice": notice, "form": form},
        status=422 if form.errors else 200,
    )


# --- import ---------------------------------------------------------------------------------


@console_view
def catalog_import(request: HttpRequest) -> HttpResponse:
    """Upload a supplier's catalog file; the result page lists what was created, updated and
    rejected (with the reason per record), exactly as the ``import-catalog`` command prints."""
    require_operator(request.actor)
    form = ImportForm(request.POST or None, request.FILES or None)
    result = None
    if request.method == "POST" and form.is_valid():
        from xinyue.catalog.services.imports import import_catalog

        upload = form.cleaned_data["file"]
        try:
            result = import_catalog(
                actor=request.actor,
                supplier=form.cleaned_data["supplier"],
                file=upload,
                filename=upload.name,
                default_category=form.cleaned_data["default_category"] or None,
            )
        except DomainError as exc:
            apply_domain_error(form, exc)
    return render_console(
        request,
        "catalog/console/import.html",
        {"form": form, "result": result},
        status=422 if form.errors else 200,
    )
