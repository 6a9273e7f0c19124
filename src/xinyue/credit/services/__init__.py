"""Services of the credit app, one module per area: ``settings`` (the operator's provider
rules), ``authorizations`` (credit checks and decisions), ``notifications`` (the inbox),
``orders`` (credit orders at the provider), ``channel_login`` (OAuth log-in through a provider)."""

from xinyue.credit.services.authorizations import (
    cancel_authorization,
    recheck_admittance,
    refresh_authorization,
    start_authorization,
)
from xinyue.credit.services.notifications import receive_notification
from xinyue.credit.services.orders import (
    cancel_credit_order,
    complete_credit_order,
    extend_credit_order,
    open_credit_order,
    sync_credit_order,
)
from xinyue.credit.services.settings import update_provider_setting

__all__ = [
    "cancel_authorization",
    "cancel_credit_order",
    "complete_credit_order",
    "extend_credit_order",
    "open_credit_order",
    "receive_notification",
    "recheck_admittance",
    "refresh_authorization",
    "start_authorization",
    "sync_credit_order",
    "update_provider_setting",
]
