from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.accounts.models import ApiKey, User
from xinyue.libraries.models import Library
from xinyue.suppliers.models import Supplier


class StaffForm(forms.Form):
    library = forms.ModelChoiceField(
        label=_("成员馆"), queryset=Library.objects.filter(is_active=True), required=False
    )
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=60, required=False)
    role = forms.ChoiceField(label=_("角色"), choices=User.Role.choices)
    password = forms.CharField(label=_("初始密码"), widget=forms.PasswordInput, min_length=8)


class ApiKeyForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=100)
    scope = forms.ChoiceField(label=_("范围"), choices=ApiKey.Scope.choices)
    library = forms.ModelChoiceField(
        label=_("成员馆"), queryset=Library.objects.all(), required=False
    )
    supplier = forms.ModelChoiceField(
        label=_("书商"), queryset=Supplier.objects.all(), required=False
    )
    role = forms.ChoiceField(
        label=_("角色"), choices=[("", "—"), *User.Role.choices], required=False
    )
