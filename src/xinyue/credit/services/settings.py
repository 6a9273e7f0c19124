"""The operator's provider settings: on/off, admittance threshold, validity days (audited)."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from xinyue.core import audit
from xinyue.core.actors import Actor
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import require_operator
from xinyue.credit.models import Provider, ProviderSetting
from xinyue.credit.selectors import MAX_VALIDITY_DAYS, SCALES, provider_setting


@transaction.atomic
def update_provider_setting(
    *,
    actor: Actor,
    provider: str,
    threshold: int | None = None,
    enabled: bool | None = None,
    validity_days: int | None = None,
) -> ProviderSetting:
    """Change one provider's rule for the whole province. Only an operator; every change audited
    with the values before and after. Decisions already taken keep the threshold they were made at.
    """
    require_operator(actor)
    if provider not in Provider.values:
        raise InvalidInput(fields={"provider": _("未知的信用服务")})
    errors: dict[str, str] = {}
    low, high = SCALES[Provider(provider)]
    if threshold is not None and (
        isinstance(threshold, bool)
        or not isinstance(threshold, int)
        or not low <= threshold <= high
    ):
        errors["threshold"] = _("准入分应为 %(low)d–%(high)d 的整数") % {"low": low, "high": high}
    if validity_days is not None and (
        isinstance(validity_days, bool)
        or not isinstance(validity_days, int)
        or not 1 <= validity_days <= MAX_VALIDITY_DAYS
    ):
        errors["validity_days"] = _("有效天数应为 1–%(max)d 的整数") % {"max": MAX_VALIDITY_DAYS}
    if errors:
        raise InvalidInput(fields=errors)
    current = provider_setting(provider)
    setting = ProviderSetting.objects.select_for_update().filter(provider=provider).first()
    if setting is None:
        setting = current
    before = {
        "threshold": setting.threshold,
        "enabled": setting.enabled,
        "validity_days": setting.validity_days,
    }
    if threshold is not None:
        setting.threshold = threshold
    if enabled is not None:
        setting.enabled = bool(enabled)
    if validity_days is not None:
        setting.validity_days = validity_days
    after = {
        "threshold": setting.threshold,
        "enabled": setting.enabled,
        "validity_days": setting.validity_days,
    }
    if setting.pk is not None and before == after:
        return setting
    setting.save()
    changed = sorted(k for k in after if before[k] != after[k])
    audit.record(
        actor=actor,
        action="credit.setting_changed",
        obj=setting,
        provider=provider,
        changed=changed,
        before=before,
        after=after,
    )
    return setting
