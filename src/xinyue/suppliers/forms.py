"""Forms of the supplier's console pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from xinyue.suppliers.services import SUPPLIER_EVENT_TYPES

EVENT_LABELS = {
    "order.placed": _("读者下单"),
    "order.awaiting_confirmation": _("等待读者在信用服务确认"),
    "order.confirmed": _("信用订单已开立"),
    "order.partially_shipped": _("部分发货"),
    "order.shipped": _("全部发货"),
    "order.line_rejected": _("某册无法供货"),
    "order.delivered": _("已送达，借阅开始"),
    "order.received": _("读者确认收货"),
    "order.cancelled": _("订单取消"),
    "order.expired": _("读者未按时确认"),
    "order.rejected": _("整单无法供货"),
}


class SupplierWebhookForm(forms.Form):
    url = forms.URLField(label=_("接收地址"), max_length=500, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("事件（不选即全部）"),
        choices=[(code, f"{EVENT_LABELS[code]}（{code}）") for code in SUPPLIER_EVENT_TYPES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
