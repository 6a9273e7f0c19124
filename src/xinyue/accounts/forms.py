from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
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


class ThrottledLoginMixin:
    """The staff log-in through ``accounts.services.authenticate_staff``: throttled per account
    and per address, every attempt audited. ``page`` names the entry in the audit row."""

    page = "console"
    throttled = False

    def clean(self) -> dict:
        from xinyue.accounts.errors import LoginFailed
        from xinyue.accounts.services import authenticate_staff
        from xinyue.core.errors import LoginThrottled

        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            request = self.request
            try:
                self.user_cache = authenticate_staff(
                    request=request,
                    username=username,
                    password=password,
                    ip=request.META.get("REMOTE_ADDR", "") if request else "",
                    page=self.page,
                )
            except LoginThrottled as exc:
                self.throttled = True
                raise ValidationError(exc.message, code="throttled") from None
            except LoginFailed:
                raise self.get_invalid_login_error() from None
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class StaffLoginForm(ThrottledLoginMixin, AuthenticationForm):
    """The console log-in: throttled and audited, with messages that say which field to fix."""

    page = "console"

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


class BackofficeLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    page = "backoffice"
