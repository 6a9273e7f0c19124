"""Console forms for curation and catalog import (shape only; the rules are in the services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.catalog.models import Category
from xinyue.libraries.models import Library
from xinyue.suppliers.models import Supplier

MAX_UPLOAD_BYTES = 50 * 1024 * 1024
IMPORT_EXTENSIONS = (".csv", ".xlsx", ".mrc", ".iso", ".xml", ".marc")


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=40)
    parent = forms.ModelChoiceField(
        label=_("上级分类"),
        queryset=Category.objects.filter(parent=None).order_by("position", "id"),
        required=False,
        empty_label=_("（一级分类）"),
    )
    position = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, required=False)
    show_on_home = forms.BooleanField(label=_("首页显示（仅一级分类）"), required=False)


class PickForm(forms.Form):
    title = forms.CharField(
        label=_("ISBN 或书目编号"),
        max_length=40,
        widget=forms.TextInput(attrs={"placeholder": "978-7-02-002434-9"}),
    )


class NoticeForm(forms.Form):
    title = forms.CharField(label=_("标题"), max_length=120)
    body = forms.CharField(
        label=_("内容"), widget=forms.Textarea(attrs={"rows": 4}), required=False
    )
    city_code = forms.ChoiceField(label=_("范围"), required=False)
    starts_at = forms.DateTimeField(
        label=_("开始时间"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    ends_at = forms.DateTimeField(
        label=_("结束时间（可空）"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    position = forms.IntegerField(label=_("排序"), min_value=0, max_value=32767, initial=0)
    is_active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        cities = Library.objects.filter(level=Library.Level.CITY).order_by("code")
        self.fields["city_code"].choices = [("", _("全省")), *((c.code, c.name) for c in cities)]


class ImportForm(forms.Form):
    supplier = forms.ModelChoiceField(
        label=_("书商"), queryset=Supplier.objects.filter(is_active=True).order_by("code")
    )
    default_category = forms.ChoiceField(
        label=_("缺省分类（记录未写分类时使用，可空）"), required=False
    )
    file = forms.FileField(
        label=_("书目文件（CSV、XLSX、MARC .mrc/.iso、MARCXML .xml）"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(IMPORT_EXTENSIONS)}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")]
        for top in Category.objects.filter(parent=None).prefetch_related("children"):
            choices.append((top.name, top.name))
            choices += [(c.name, f"{top.name} › {c.name}") for c in top.children.all()]
        self.fields["default_category"].choices = choices

    def clean_file(self):
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(IMPORT_EXTENSIONS):
            raise forms.ValidationError(
                _("不支持的文件类型：请上传 CSV、XLSX、MARC 或 MARCXML 文件")
            )
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(_("文件超过 50 MB，请分批导入或使用 import-catalog 命令"))
        return upload
