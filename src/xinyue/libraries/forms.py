from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.core.money import fen_to_yuan, yuan_to_fen
from xinyue.libraries.settings_schema import SIP2_ENCODINGS

# Settings whose values are secrets: never shown again; left empty in the form = unchanged.
SECRET_SETTINGS = ("sip2_login_password", "rest_verify_secret")


class LibraryForm(forms.Form):
    name = forms.CharField(label=_("馆名"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    opening_hours = forms.CharField(
        label=_("开放时间"),
        max_length=200,
        required=False,
        help_text=_("例如：周二至周日 9:00–17:00，周一闭馆"),
    )
    deposit_fen = forms.CharField(
        label=_("押金证押金（元）"),
        max_length=12,
        required=False,
        help_text=_("在服务台办押金证收取的押金；不知道时留空，读者看到“以馆内公告为准”"),
    )
    is_active = forms.BooleanField(label=_("启用"), required=False)
    card_prefix = forms.CharField(label=_("读者证号前缀"), max_length=10, required=False)
    local_books_float = forms.BooleanField(label=_("本馆图书还到哪里就在哪里流通"), required=False)
    link_card_check = forms.ChoiceField(
        label=_("绑定已有读者证的核验方式"),
        choices=[
            ("staff", _("馆员审核")),
            ("sip2", _("SIP2 读者信息查询")),
            ("rest", _("本馆系统接口")),
        ],
    )
    sip2_host = forms.CharField(label=_("SIP2 主机"), max_length=300, required=False)
    sip2_port = forms.IntegerField(label=_("SIP2 端口"), min_value=1, max_value=65535)
    sip2_encoding = forms.ChoiceField(
        label=_("SIP2 字符编码"), choices=[(e, e) for e in SIP2_ENCODINGS]
    )
    sip2_institution_id = forms.CharField(
        label=_("SIP2 机构代码（AO）"), max_length=300, required=False
    )
    sip2_location_code = forms.CharField(
        label=_("SIP2 位置代码（CP）"), max_length=300, required=False
    )
    sip2_login_user = forms.CharField(
        label=_("SIP2 登录用户（93）"), max_length=300, required=False
    )
    sip2_login_password = forms.CharField(
        label=_("SIP2 登录密码（留空则不变）"),
        max_length=300,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )
    rest_verify_url = forms.URLField(
        label=_("读者证核验接口地址"), max_length=300, required=False, assume_scheme="https"
    )
    rest_verify_secret = forms.CharField(
        label=_("核验接口签名密钥（留空则不变）"),
        max_length=300,
        required=False,
        widget=forms.PasswordInput(render_value=False),
    )

    SETTINGS = (
        "deposit_fen", "card_prefix", "local_books_float", "link_card_check", "sip2_host", "sip2_port", "sip2_encoding",
        "sip2_institution_id", "sip2_location_code", "sip2_login_user", "sip2_login_password",
        "rest_verify_url", "rest_verify_secret",
    )  # fmt: skip

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        fen = self.initial.get("deposit_fen")
        self.initial["deposit_fen"] = "" if fen is None else fen_to_yuan(fen)

    def clean_deposit_fen(self) -> int | None:
        """Yuan as typed ("100", "¥100.00") → fen; empty = not known."""
        value = self.cleaned_data["deposit_fen"].strip()
        if not value:
            return None
        try:
            return yuan_to_fen(value)
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def settings_values(self) -> dict:
        """The submitted settings, leaving secrets that were left empty unchanged."""
        values = {key: self.cleaned_data[key] for key in self.SETTINGS}
        return {k: v for k, v in values.items() if not (k in SECRET_SETTINGS and not v)}


class LibraryFileForm(forms.Form):
    file = forms.FileField(label=_("成员馆 CSV 文件"))


EVENT_TYPES = [
    ("card.issued", _("办理信用读者证")),
    ("card.linked", _("绑定已有读者证")),
    ("book.transferred", _("图书归还并入藏本馆")),
]


class WebhookForm(forms.Form):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("事件（不选即全部）"),
        choices=EVENT_TYPES,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
