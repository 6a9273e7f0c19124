"""The reader's order form (the confirm page after "借这些书"). Only shapes are checked here;
``services.place_order`` decides everything else (limits, the address, the library) and names
the field it refuses."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.orders.models import DeliveryKind

MAX_TITLES = 50  # far above any per-order maximum; the service says the real one


class TitleIdsField(forms.Field):
    """The ticked titles (``title_ids`` repeated), as distinct integers in the given order."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value: Any) -> list[int]:
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        ids: list[int] = []
        for raw in list(value)[:MAX_TITLES]:
            try:
                number = int(str(raw).strip())
            except ValueError:
                raise forms.ValidationError(_("书目编号应为整数")) from None
            if number < 1 or number > 2**62:
                raise forms.ValidationError(_("书目编号应为整数"))
            if number not in ids:
                ids.append(number)
        return ids

    def validate(self, value: list[int]) -> None:
        if not value:
            raise forms.ValidationError(_("请至少选择一本书"))


class PlaceOrderForm(forms.Form):
    """Delivery kind, then a saved address (home) or a member library (pick-up). ``token`` is
    the idempotency key made when the page was drawn: a double submit is one order."""

    title_ids = TitleIdsField()
    delivery_kind = forms.ChoiceField(
        label=_("配送方式"),
        choices=DeliveryKind.choices,
        initial=DeliveryKind.HOME,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("请选择配送方式"), "required": _("请选择配送方式")},
    )
    # Plain text fields rendered as radios/selects: a tampered value reaches the service,
    # which names what is wrong with it.
    address_uid = forms.CharField(label=_("收货地址"), required=False, max_length=40)
    pickup_library = forms.CharField(label=_("自取成员馆"), required=False, max_length=12)
    token = forms.CharField(widget=forms.HiddenInput, max_length=64)
