"""Log-in through a provider's OAuth (Alipay, WeChat; the sandbox in the demo).

``/login/<channel>/`` sends the reader to the provider's authorize page with a one-time
``state`` kept in the session; the callback checks the state, exchanges the code for the
provider's user id (no personal data) and finds the reader bound to it. An unknown identity is
bound once, after the reader proved who they are with their ID number and password (or just
registered): ``xinyue.readers.services.bind_channel_identity``.
"""

from __future__ import annotations

import logging
import secrets

from django.urls import reverse

from xinyue.credit import conf
from xinyue.credit.errors import ChannelLoginFailed, ProviderDisabled
from xinyue.credit.providers import ProviderNotConfigured, get_provider
from xinyue.credit.providers.base import ProviderError, ProviderIdentity

log = logging.getLogger("xinyue.credit.login")

# The channel names in URLs and the provider that serves each.
CHANNELS = {"alipay": "zhima", "wechat": "wechat_payscore", "sandbox": "sandbox"}


def provider_for_channel(channel: str) -> str:
    provider = CHANNELS.get(channel)
    if provider is None or not conf.is_configured(provider):
        raise ProviderDisabled(provider=channel)
    return provider


def available_channels() -> list[str]:
    return [c for c, p in CHANNELS.items() if conf.is_configured(p)]


def callback_url(channel: str) -> str:
    return conf.public_base_url() + reverse("credit:channel_callback", args=[channel])


def begin_channel_login(*, channel: str) -> tuple[str, str]:
    """The provider's authorize URL and the ``state`` to keep in the session."""
    provider = provider_for_channel(channel)
    state = secrets.token_urlsafe(24)
    try:
        url = get_provider(provider).authorize_url(state=state, redirect_uri=callback_url(channel))
    except ProviderNotConfigured:
        raise ProviderDisabled(provider=channel) from None
    return url, state


def identify_channel_user(*, channel: str, code: str) -> ProviderIdentity:
    """Exchange the one-time code for the provider identity (server to server, signed)."""
    provider = provider_for_channel(channel)
    if not code:
        raise ChannelLoginFailed()
    try:
        return get_provider(provider).exchange_code(code=code)
    except ProviderError as exc:
        log.warning("channel login via %s failed: %s", channel, exc.code or type(exc).__name__)
        raise ChannelLoginFailed() from None
