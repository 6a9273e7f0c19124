"""The adapters, built from settings: ``get_provider("sandbox" | "zhima" | "wechat_payscore")``.

``sandbox`` is the Zhima adapter pointed at the sandbox gateway (embedded at
``PUBLIC_BASE_URL/sandbox/zhima/`` unless configured elsewhere), with the key pair generated into
the data directory on first use; our side knows only the gateway's *public* key.
"""

from __future__ import annotations

from django.conf import settings

from xinyue.credit import conf
from xinyue.credit.providers.base import CreditProvider, ProviderError
from xinyue.credit.providers.wechat_payscore import WechatPayScoreProvider
from xinyue.credit.providers.zhima import AlipayGateway, ZhimaProvider

__all__ = ["CreditProvider", "ProviderNotConfigured", "get_provider"]


class ProviderNotConfigured(ProviderError):
    pass


Timeout = tuple[float, float]


def _timeout(read_timeout: float | None = None) -> Timeout:
    """(connect, read) seconds for every provider call: short, never unbounded."""
    read = read_timeout or float(settings.CREDIT_HTTP_TIMEOUT_SECONDS)
    connect = float(settings.CREDIT_CONNECT_TIMEOUT_SECONDS)
    return (min(connect, read), read)


def _sandbox(timeout: Timeout) -> ZhimaProvider:
    config = conf.provider_config("sandbox")
    paths = conf.ensure_sandbox_keys()
    base = conf.sandbox_base_url()
    gateway = AlipayGateway(
        app_id=config.get("app_id") or "2021000000000001",
        gateway_url=base + "/gateway.do",
        app_private_key=conf.private_key(
            config.get("app_private_key_file") or paths["app_private"]
        ),
        gateway_public_key=conf.public_key(
            config.get("gateway_public_key_file") or paths["gateway_public"]
        ),
        timeout=timeout,
    )
    provider = ZhimaProvider(gateway=gateway, authorize_base=base + "/oauth/authorize")
    provider.name = "sandbox"
    return provider


def _zhima(timeout: Timeout) -> ZhimaProvider:
    config = conf.provider_config("zhima")
    gateway = AlipayGateway(
        app_id=config["app_id"],
        gateway_url=config.get("gateway_url") or "https://openapi.alipay.com/gateway.do",
        app_private_key=conf.private_key(config["app_private_key_file"]),
        gateway_public_key=conf.public_key(config["alipay_public_key_file"]),
        timeout=timeout,
    )
    return ZhimaProvider(
        gateway=gateway,
        authorize_base=config.get("authorize_url")
        or "https://openauth.alipay.com/oauth2/publicAppAuthorize.htm",
        admittance_product_code=config.get("admittance_product_code") or "w1010100000000002733",
        rent_product_code=config.get("rent_product_code") or "w1010100000000002858",
    )


def _wechat(timeout: Timeout) -> WechatPayScoreProvider:
    config = conf.provider_config("wechat_payscore")
    return WechatPayScoreProvider(
        base_url=config.get("base_url") or "https://api.mch.weixin.qq.com",
        mchid=config["mchid"],
        appid=config["appid"],
        service_id=config["service_id"],
        serial_no=config["serial_no"],
        private_key=conf.private_key(config["private_key_file"]),
        platform_public_key=conf.public_key(config["platform_public_key_file"]),
        platform_serial=config["platform_serial"],
        api_v3_key=config["api_v3_key"],
        timeout=timeout,
        confirm_url=config.get("confirm_url") or "",
        authorize_base=config.get("authorize_url")
        or "https://open.weixin.qq.com/connect/oauth2/authorize",
        oauth_api_base=config.get("oauth_api_base") or "https://api.weixin.qq.com",
        app_secret=config.get("app_secret") or "",
    )


BUILDERS = {"sandbox": _sandbox, "zhima": _zhima, "wechat_payscore": _wechat}


def get_provider(name: str, *, read_timeout: float | None = None) -> CreditProvider:
    """The adapter for ``name``; raises ``ProviderNotConfigured`` when it lacks its settings.
    ``read_timeout`` shortens the wait for answers (a reader is waiting on the page)."""
    if name not in BUILDERS:
        raise ProviderNotConfigured(f"unknown credit provider {name!r}")
    if not conf.is_configured(name):
        raise ProviderNotConfigured(f"credit provider {name!r} is not configured")
    return BUILDERS[name](_timeout(read_timeout))
