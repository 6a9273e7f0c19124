"""Forms of the circulation console pages: the return desk, desk lending, the rules."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.circulation.models import ItemType, Program
from xinyue.circulation.services.rules import LIMITS, READER_CATEGORIES

ANY = [("", _("任意"))]


class BarcodeForm(forms.Form):
    barcode = forms.CharField(
        label=_("图书条码"),
        max_length=64,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "off", "class": "scan", "inputmode": "text"}
        ),
    )


class CardForm(forms.Form):
    card_number = forms.CharField(
        label=_("读者证号（扫读者证或手机上的读者证二维码）"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "class": "scan"}),
    )


class MoneyDeskForm(forms.Form):
    scanned = forms.CharField(
        label=_("读者证号或图书条码（扫读者证、手机上的读者证二维码或找回的图书）"),
        max_length=64,
        widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "off", "class": "scan"}),
    )


def _category_choices() -> list:
    from xinyue.cards.models import Card

    labels = dict(Card.Kind.choices)
    return ANY + [(kind, labels[kind]) for kind in READER_CATEGORIES]


class RuleForm(forms.Form):
    reader_category = forms.ChoiceField(label=_("读者类型"), required=False)
    item_type = forms.ChoiceField(label=_("文献类型"), required=False)
    program = forms.ChoiceField(label=_("项目"), required=False)
    loan_days = forms.IntegerField(label=_("借期（天，0 为不外借）"))
    renewals = forms.IntegerField(label=_("可续借次数"))
    renewal_grace_days = forms.IntegerField(label=_("逾期后仍可续借天数"))
    max_open_loans = forms.IntegerField(label=_("最多在借册数"))
    compensation_factor_permille = forms.IntegerField(label=_("赔偿倍数（‰，1000 即按定价）"))
    compensation_fee_fen = forms.IntegerField(label=_("赔偿手续费（分）"))
    remind_days_before = forms.IntegerField(label=_("到期前提醒天数"), required=False, initial=3)
    lost_after_days = forms.IntegerField(label=_("逾期多少天视为遗失"), required=False, initial=60)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reader_category"].choices = _category_choices()
        self.fields["item_type"].choices = ANY + list(ItemType.choices)
        self.fields["program"].choices = ANY + list(Program.choices)
        for name, (low, high) in LIMITS.items():
            self.fields[name].min_value = low
            self.fields[name].max_value = high
            self.fields[name].widget.attrs.update({"min": low, "max": high})


class ExplainForm(forms.Form):
    card_number = forms.CharField(label=_("读者证号（本馆）"), max_length=64, required=False)
    reader_category = forms.ChoiceField(label=_("或读者类型"), required=False)
    barcode = forms.CharField(label=_("图书条码"), max_length=64, required=False)
    item_type = forms.ChoiceField(label=_("或文献类型"), required=False)
    program = forms.ChoiceField(label=_("项目"), choices=list(Program.choices))

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reader_category"].choices = _category_choices()
        self.fields["item_type"].choices = ANY + list(ItemType.choices)
