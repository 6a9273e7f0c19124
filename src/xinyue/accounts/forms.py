from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from xinyue.accounts.models import ApiKey, User
from xinyue.catalog.models import Supplier
from xinyue.libraries.models import Library


class StaffLoginForm(AuthenticationForm):
    """Django's log-in form with messages that say which field to fix and how."""

    error_messages = {
        "invalid_login": _("用户名或密码不正确（区分大小写），请核对后再试"),
        "inactive": _("此账户已停用，请联系本馆管理员"),
    }

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        username, password = self.fields["username"], self.fields["password"]
        username.error_messages["required"] = _("请填写用户名")
        username.error_messages["max_length"] = _("用户名最多150个字符")
        password.error_messages["required"] = _("请填写密码")


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
