"""Forms of the card pages (reader) and the library desk (staff)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.core.money import yuan_to_fen
from xinyue.libraries.models import Library
from xinyue.libraries.selectors import cities


def library_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """Active member libraries grouped by city (the province library first)."""
    libraries = list(Library.objects.filter(is_active=True).order_by("code"))
    groups: list[tuple[str, list[tuple[str, str]]]] = []
    province = [(lib.code, lib.name) for lib in libraries if lib.level == Library.Level.PROVINCE]
    if province:
        groups.append((str(_("省级")), province))
    for city in cities():
        members = [
            (lib.code, lib.name)
            for lib in libraries
            if lib.level != Library.Level.PROVINCE and lib.city_code == city.code
        ]
        if members:
            groups.append((city.name, members))
    return groups


class LinkCardForm(forms.Form):
    library_code = forms.ChoiceField(label=_("发证成员馆"))
    card_number = forms.CharField(label=_("读者证号"), max_length=40)
    password = forms.CharField(
        label=_("读者证密码"),
        max_length=64,
        required=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "off"}),
        help_text=_("成员馆通过其系统核验时需要；由馆员审核的成员馆可不填。"),
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fields["library_code"].choices = [("", "—"), *library_choices()]


class ReviewForm(forms.Form):
    library_code = forms.CharField(widget=forms.HiddenInput)
    message = forms.CharField(
        label=_("补充说明（可选）"),
        max_length=300,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class NoEchoTextInput(forms.TextInput):
    """A text box that never renders a submitted value back (the page must not echo an ID
    number in clear)."""

    def format_value(self, value: object) -> None:
        return None


class LookupForm(forms.Form):
    id_number = forms.CharField(
        label=_("身份证号"),
        max_length=20,
        required=False,
        widget=NoEchoTextInput(attrs={"autocomplete": "off"}),
    )
    card_number = forms.CharField(label=_("或本馆读者证号"), max_length=40, required=False)

    def clean(self) -> dict:
        data = super().clean()
        if bool(data.get("id_number", "").strip()) == bool(data.get("card_number", "").strip()):
            raise forms.ValidationError(_("请输入身份证号或读者证号（二选一）"))
        return data


class DepositCardForm(forms.Form):
    reader_ref = forms.UUIDField(widget=forms.HiddenInput)
    deposit = forms.CharField(label=_("押金（元）"), max_length=12, initial="100.00")

    def clean_deposit(self) -> int:
        try:
            fen = yuan_to_fen(self.cleaned_data["deposit"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if fen <= 0:
            raise forms.ValidationError(_("押金应大于 0"))
        return fen


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("意见"), max_length=200, required=False)
