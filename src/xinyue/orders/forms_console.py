"""Forms of the orders console pages (supplier and operator). They check the shape of what was
typed and name the field; the rules themselves stay in ``orders.services``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from xinyue.core.money import fen_to_yuan, yuan_to_fen
from xinyue.orders.models import OrderLine, PlatformRules, PostagePayer
from xinyue.orders.selectors import barcodes_in_use
from xinyue.orders.services import BARCODE_RE, RULE_BOUNDS, TRACKING_RE

# The carriers a supplier picks from (the parcel's tracking number is only meaningful with one).
CARRIERS = (
    ("顺丰速运", pgettext_lazy("carrier", "顺丰速运")),
    ("中国邮政", pgettext_lazy("carrier", "中国邮政")),
    ("EMS", pgettext_lazy("carrier", "EMS")),
    ("京东物流", pgettext_lazy("carrier", "京东物流")),
    ("中通快递", pgettext_lazy("carrier", "中通快递")),
    ("圆通速递", pgettext_lazy("carrier", "圆通速递")),
    ("韵达快递", pgettext_lazy("carrier", "韵达快递")),
    ("申通快递", pgettext_lazy("carrier", "申通快递")),
    ("极兔速递", pgettext_lazy("carrier", "极兔速递")),
    ("德邦快递", pgettext_lazy("carrier", "德邦快递")),
)


def barcode_field_name(line: OrderLine) -> str:
    return f"barcode_{line.pk}"


class ShipForm(forms.Form):
    """Pick and ship: one barcode input per line still to ship (a line left empty stays for a
    later parcel), then the carrier and the tracking number."""

    carrier = forms.ChoiceField(label=gettext_lazy("承运商"), choices=CARRIERS)
    tracking_number = forms.CharField(
        label=gettext_lazy("运单号"),
        max_length=40,
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "data-scan": "", "inputmode": "latin", "class": "scan"}
        ),
    )

    def __init__(self, *args: Any, lines: Sequence[OrderLine], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lines = list(lines)
        barcode_fields = {}
        for i, line in enumerate(self.lines):
            attrs = {
                "autocomplete": "off",
                "data-scan": "",
                "inputmode": "latin",
                "class": "scan",
                "placeholder": _("扫描或输入条码"),
            }
            if i == 0:
                attrs["autofocus"] = ""
            barcode_fields[barcode_field_name(line)] = forms.CharField(
                label=line.title.title,
                max_length=40,
                required=False,
                widget=forms.TextInput(attrs=attrs),
            )
        # Barcodes first (scanned in order), then the parcel.
        self.fields = {**barcode_fields, **self.fields}

    def barcode_fields(self) -> list[forms.BoundField]:
        return [self[barcode_field_name(line)] for line in self.lines]

    def clean_tracking_number(self) -> str:
        value = self.cleaned_data["tracking_number"].strip()
        if not TRACKING_RE.match(value):
            raise forms.ValidationError(_("运单号应为4–40位字母或数字"))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        seen: dict[str, str] = {}
        chosen: list[tuple[OrderLine, str]] = []
        for line in self.lines:
            name = barcode_field_name(line)
            barcode = (data.get(name) or "").strip()
            if not barcode:
                continue
            if not BARCODE_RE.match(barcode):
                self.add_error(name, _("条码应为4–40位字母、数字或连字符"))
                continue
            if barcode in seen:
                self.add_error(name, _("与上面一册的条码相同"))
                continue
            seen[barcode] = name
            chosen.append((line, barcode))
        for barcode in sorted(barcodes_in_use(seen)):
            self.add_error(seen[barcode], _("条码已被使用：%(code)s") % {"code": barcode})
        if not chosen and not any(self.has_error(barcode_field_name(line)) for line in self.lines):
            raise forms.ValidationError(_("请至少扫描一册的条码"))
        self.cleaned_data["lines"] = [(line.pk, barcode) for line, barcode in chosen]
        return self.cleaned_data

    def field_for_service_error(self, key: str) -> str | None:
        """The form field a service field error (``lines.2.barcode``) belongs to."""
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "lines" and parts[1].isdigit():
            chosen = self.cleaned_data.get("lines") or []
            index = int(parts[1])
            if index < len(chosen):
                return f"barcode_{chosen[index][0]}"
        return key if key in self.fields else None


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("无法供书的原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": gettext_lazy("例如：缺货、印刷质量问题")}),
    )


# --- operator -----------------------------------------------------------------------------------


class YuanField(forms.CharField):
    """Money typed in yuan (``8`` or ``8.50``), cleaned to integer fen."""

    def __init__(self, *args: Any, max_fen: int, **kwargs: Any) -> None:
        self.max_fen = max_fen
        kwargs.setdefault("max_length", 16)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal"}))
        super().__init__(*args, **kwargs)

    def prepare_value(self, value: Any) -> Any:
        return fen_to_yuan(value) if isinstance(value, int) else value

    def clean(self, value: Any) -> int:  # type: ignore[override]
        text = super().clean(value)
        try:
            fen = yuan_to_fen(text or "0")
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        if fen > self.max_fen:
            raise forms.ValidationError(_("最多 %(yuan)s 元") % {"yuan": fen_to_yuan(self.max_fen)})
        return fen


def _bounded(label: str, name: str, help_text: str = "") -> forms.IntegerField:
    low, high = RULE_BOUNDS[name]
    return forms.IntegerField(
        label=label,
        min_value=low,
        max_value=high,
        help_text=help_text,
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )


class RulesForm(forms.Form):
    max_volumes_per_order = _bounded(gettext_lazy("每单最多册数"), "max_volumes_per_order")
    platform_quota = _bounded(
        gettext_lazy("读者在借/在途册数上限"),
        "platform_quota",
        gettext_lazy("信阅借书的平台配额，不计入任何成员馆的本地配额"),
    )
    loan_days = _bounded(gettext_lazy("借期（天）"), "loan_days")
    duplicate_window_days = _bounded(
        gettext_lazy("重复下单检查（天）"),
        "duplicate_window_days",
        gettext_lazy("读者在此天数内订过的书不能再订；0 表示只检查在借的书"),
    )
    confirm_minutes = _bounded(gettext_lazy("信用确认时限（分钟）"), "confirm_minutes")
    pickup_enabled = forms.BooleanField(label=gettext_lazy("允许到馆自取"), required=False)
    home_postage_payer = forms.ChoiceField(
        label=gettext_lazy("快递到家：邮费承担方"), choices=PostagePayer.choices
    )
    home_postage = YuanField(
        label=gettext_lazy("快递到家：读者承担的邮费（元）"),
        max_fen=RULE_BOUNDS["home_postage_fen"][1],
    )
    pickup_postage_payer = forms.ChoiceField(
        label=gettext_lazy("到馆自取：邮费承担方"), choices=PostagePayer.choices
    )
    pickup_postage = YuanField(
        label=gettext_lazy("到馆自取：读者承担的邮费（元）"),
        max_fen=RULE_BOUNDS["pickup_postage_fen"][1],
    )

    @classmethod
    def initial_from(cls, rules: PlatformRules) -> dict[str, Any]:
        return {
            "max_volumes_per_order": rules.max_volumes_per_order,
            "platform_quota": rules.platform_quota,
            "loan_days": rules.loan_days,
            "duplicate_window_days": rules.duplicate_window_days,
            "confirm_minutes": rules.confirm_minutes,
            "pickup_enabled": rules.pickup_enabled,
            "home_postage_payer": rules.home_postage_payer,
            "home_postage": rules.home_postage_fen,
            "pickup_postage_payer": rules.pickup_postage_payer,
            "pickup_postage": rules.pickup_postage_fen,
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for kind in ("home", "pickup"):
            payer, fen = data.get(f"{kind}_postage_payer"), data.get(f"{kind}_postage")
            if payer == PostagePayer.READER and fen == 0:
                self.add_error(f"{kind}_postage", _("读者承担邮费时请填写金额"))
        return data

    def service_values(self) -> dict[str, Any]:
        """The cleaned values under the names ``services.set_rules`` takes."""
        data = dict(self.cleaned_data)
        data["home_postage_fen"] = data.pop("home_postage")
        data["pickup_postage_fen"] = data.pop("pickup_postage")
        return data

    @staticmethod
    def form_field(service_field: str) -> str:
        return (
            service_field.removesuffix("_fen") if "postage_fen" in service_field else service_field
        )


class PeriodForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("名称"), max_length=40)
    starts_on = forms.DateField(
        label=gettext_lazy("开始日期"), widget=forms.DateInput(attrs={"type": "date"})
    )
    ends_on = forms.DateField(
        label=gettext_lazy("结束日期（不含）"), widget=forms.DateInput(attrs={"type": "date"})
    )


class TopUpForm(forms.Form):
    amount = YuanField(label=gettext_lazy("追加金额（元）"), max_fen=10**12)
    note = forms.CharField(label=gettext_lazy("备注（如拨款文号）"), max_length=200, required=False)

    def clean_amount(self) -> int:
        fen = self.cleaned_data["amount"]
        if fen <= 0:
            raise forms.ValidationError(_("金额应大于 0"))
        return fen
