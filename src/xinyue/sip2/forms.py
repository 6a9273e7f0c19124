from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.sip2.models import Charset


class KioskCreateForm(forms.Form):
    login = forms.CharField(label=_("登录名（CN）"), max_length=40)
    password = forms.CharField(label=_("密码（CO）"), max_length=64, widget=forms.PasswordInput)
    charset = forms.ChoiceField(label=_("字符集"), choices=Charset.choices, initial=Charset.GBK)
    location_code = forms.CharField(label=_("位置代码（CP）"), max_length=40, required=False)
    error_detection = forms.BooleanField(
        label=_("要求校验和与序号（AY/AZ）"), required=False, initial=True
    )


class KioskChangeForm(forms.Form):
    charset = forms.ChoiceField(label=_("字符集"), choices=Charset.choices)
    location_code = forms.CharField(label=_("位置代码（CP）"), max_length=40, required=False)
    error_detection = forms.BooleanField(label=_("要求校验和与序号（AY/AZ）"), required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    password = forms.CharField(
        label=_("新密码（不改请留空）"),
        max_length=64,
        required=False,
        widget=forms.PasswordInput,
    )
