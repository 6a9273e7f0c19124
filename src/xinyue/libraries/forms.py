from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.libraries.settings_schema import LINK_CHECKS


class LibraryForm(forms.Form):
    name = forms.CharField(label=_("馆名"), max_length=100)
    address = forms.CharField(label=_("地址"), max_length=200, required=False)
    phone = forms.CharField(label=_("联系电话"), max_length=40, required=False)
    is_active = forms.BooleanField(label=_("启用"), required=False)
    card_prefix = forms.CharField(label=_("读者证号前缀"), max_length=10, required=False)
    link_card_check = forms.ChoiceField(
        label=_("绑定已有读者证的核验方式"), choices=[(c, c) for c in LINK_CHECKS]
    )
    local_books_float = forms.BooleanField(label=_("本馆图书还到哪里就在哪里流通"), required=False)


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
