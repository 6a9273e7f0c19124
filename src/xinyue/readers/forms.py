"""Forms of the reader identity pages. After an error the page keeps what was typed (never a
password) and says per field what to fix; the view marks such a page ``no-store`` because it holds
the typed ID number, name and phone. HTML patterns catch most slips first."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.core.errors import InvalidInput
from xinyue.libraries import divisions
from xinyue.readers.validation import clean_name, clean_phone, parse_id_number


def _field_check(check: Callable[[str], Any], value: str) -> Any:
    try:
        return check(value)
    except InvalidInput as exc:
        raise forms.ValidationError(next(iter(exc.fields.values()))) from None


def _attrs(**extra: str) -> dict[str, str]:
    return {"autocomplete": "off", "spellcheck": "false", **extra}


def _says(required: Any, too_long: Any = None, too_short: Any = None) -> dict[str, Any]:
    """Error messages of one field, in words about that field instead of Django's generic ones."""
    messages = {"required": required}
    if too_long is not None:
        messages["max_length"] = too_long
    if too_short is not None:
        messages["min_length"] = too_short
    return messages


ID_NUMBER_MESSAGES = _says(_("请填写身份证号"), _("身份证号应为18位（或15位旧号）"))
PASSWORD_TOO_SHORT = _("密码至少8位")


class RegisterForm(forms.Form):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=24,
        error_messages=ID_NUMBER_MESSAGES,
        widget=forms.TextInput(
            attrs=_attrs(
                pattern=r"[0-9]{15}|[0-9]{17}[0-9Xx]",
                inputmode="text",
                placeholder=_("18位居民身份证号"),
            )
        ),
    )
    name = forms.CharField(
        label=_("姓名"),
        max_length=30,
        error_messages=_says(_("请填写姓名"), _("姓名最多30个字")),
        widget=forms.TextInput(attrs=_attrs(autocomplete="name")),
    )
    phone = forms.CharField(
        label=_("手机号"),
        max_length=20,
        error_messages=_says(_("请填写手机号"), _("手机号应为11位，以1开头")),
        widget=forms.TextInput(attrs=_attrs(inputmode="tel", pattern=r"(\+86)?1[3-9][0-9]{9}")),
    )
    password = forms.CharField(
        label=_("密码"),
        min_length=8,
        error_messages=_says(_("请设置密码"), too_short=PASSWORD_TOO_SHORT),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": "8"}),
        help_text=_("至少8位，不能全是数字"),
    )
    password2 = forms.CharField(
        label=_("再次输入密码"),
        error_messages=_says(_("请再次输入密码")),
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )
    consent_id_number = forms.BooleanField(
        label=_("我已阅读并同意《处理身份证号（敏感个人信息）的单独同意》"),
        required=True,
        error_messages=_says(_("请勾选此项：注册需要处理身份证号以核实身份")),
    )
    consent_credit_check = forms.BooleanField(
        label=_("同意《信用评估授权》（可稍后在“我的账户”中授权）"), required=False
    )
    consent_share_borrowing = forms.BooleanField(
        label=_("同意《向信用服务机构提供借阅记录的单独同意》（可稍后授权）"), required=False
    )

    # The services validate again (they hold the rules); checking here too shows every problem
    # on the first submit instead of one layer at a time.
    def clean_id_number(self) -> str:
        return _field_check(parse_id_number, self.cleaned_data["id_number"]).number

    def clean_name(self) -> str:
        return _field_check(clean_name, self.cleaned_data["name"])

    def clean_phone(self) -> str:
        return _field_check(clean_phone, self.cleaned_data["phone"])

    def clean(self) -> dict:
        data = super().clean()
        if data.get("password") and data.get("password2") and data["password"] != data["password2"]:
            self.add_error("password2", _("两次输入的密码不一致"))
        return data

    def consents(self) -> list[str]:
        return [
            purpose
            for purpose in ("id_number", "credit_check", "share_borrowing")
            if self.cleaned_data.get(f"consent_{purpose}")
        ]


class LoginForm(forms.Form):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=24,
        error_messages=ID_NUMBER_MESSAGES,
        widget=forms.TextInput(attrs=_attrs(autocomplete="username")),
    )
    password = forms.CharField(
        label=_("密码"),
        error_messages=_says(_("请填写密码")),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PasswordConfirmForm(forms.Form):
    password = forms.CharField(
        label=_("请输入登录密码确认"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )


class PhoneCodeForm(forms.Form):
    code = forms.CharField(
        label=_("短信验证码"),
        max_length=6,
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "pattern": "[0-9]{6}", "autocomplete": "one-time-code"}
        ),
    )


class ChangePasswordForm(forms.Form):
    old_password = forms.CharField(
        label=_("原密码"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    new_password = forms.CharField(
        label=_("新密码"),
        min_length=8,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password", "minlength": "8"}),
    )


class AddressForm(forms.Form):
    """A delivery address: province → city → district picker (GB/T 2260 codes), then the
    street, the recipient and their phone. Only the shape is checked here; the address service
    decides what is accepted (inside Zhejiang, a real district, a valid name and phone).

    Without JavaScript the reader picks the province and city, presses 选择 and the page comes
    back with the next list; with htmx the next list is swapped in on change."""

    # CharFields with a select: a code that is not in the list goes to the service, which says
    # what is wrong with it (Django's "select a valid choice" would not).
    province = forms.CharField(label=_("省份"), required=False, widget=forms.Select)
    city = forms.CharField(label=_("城市"), required=False, widget=forms.Select)
    district_code = forms.CharField(label=_("区县"), required=False, widget=forms.Select)
    detail = forms.CharField(
        label=_("详细地址"),
        required=False,
        max_length=200,
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
        help_text=_("街道、门牌号、小区楼栋"),
    )
    recipient = forms.CharField(
        label=_("收件人"),
        required=False,
        max_length=30,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )
    phone = forms.CharField(
        label=_("收件人手机号"),
        required=False,
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    is_default = forms.BooleanField(label=_("设为默认地址"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        province = self._picked("province") or divisions.PROVINCE_CODE
        city = self._picked("city")
        self.fields["province"].widget.choices = list(divisions.PROVINCES)
        cities = divisions.cities() if province == divisions.PROVINCE_CODE else []
        self.fields["city"].widget.choices = [
            ("", _("请选择城市")),
            *((c.code, c.name) for c in cities),
        ]
        if city not in {c.code for c in cities}:
            city = ""
        districts = divisions.districts(city) if city else []
        self.fields["district_code"].widget.choices = [
            ("", _("请选择区县")),
            *((d.code, d.name) for d in districts),
        ]
        self.initial.setdefault("province", divisions.PROVINCE_CODE)
        self.picked_province, self.picked_city = province, city

    def _picked(self, name: str) -> str:
        value = self.data.get(name) if self.is_bound else self.initial.get(name)
        return str(value or "")

    def address_values(self) -> dict[str, str]:
        """What the address service takes, from a bound form; a province other than Zhejiang
        is passed as its own code, so the service names the problem (只能配送到浙江省内的地址)."""
        data = self.data
        province = str(data.get("province") or divisions.PROVINCE_CODE)
        district = str(data.get("district_code") or "")
        return {
            "district_code": district if province == divisions.PROVINCE_CODE else province,
            "detail": str(data.get("detail") or ""),
            "recipient": str(data.get("recipient") or ""),
            "phone": str(data.get("phone") or ""),
        }
