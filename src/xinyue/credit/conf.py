"""Provider configuration read from settings (the ``credit`` block), with embedded defaults.

The embedded default is the sandbox gateway mounted in this very platform at
``PUBLIC_BASE_URL/sandbox/zhima/``; its keys (ours and the sandbox's) are generated into
``CREDIT_KEY_DIR`` on first use. Real providers need their app ids and key files configured.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from xinyue.credit import crypto

PROVIDERS = ("sandbox", "zhima", "wechat_payscore")
SANDBOX_PREFIX = "/sandbox/zhima/"


def provider_config(name: str) -> dict[str, Any]:
    return dict(settings.CREDIT_PROVIDERS.get(name) or {})


def key_dir() -> Path:
    return Path(settings.CREDIT_KEY_DIR)


def public_base_url() -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/")


def notify_url(provider: str) -> str:
    """Where providers send notifications: ``POST /api/v1/credit/notify/{provider}``."""
    return f"{public_base_url()}/api/v1/credit/notify/{provider}"


def sandbox_base_url() -> str:
    """The sandbox gateway's base (``…/sandbox/zhima``), embedded unless configured elsewhere."""
    url = provider_config("sandbox").get("gateway_url") or ""
    if url:
        return url.rsplit("/", 1)[0] if url.endswith(".do") else url.rstrip("/")
    return public_base_url() + SANDBOX_PREFIX.rstrip("/")


def provider_page_origins() -> tuple[str, ...]:
    """Origins of the providers' pages a reader is sent to after our authorize form."""
    urls = [sandbox_base_url()] if settings.CREDIT_SANDBOX_ENABLED else []
    urls += [
        provider_config("zhima").get("gateway_url") or "",
        provider_config("wechat_payscore").get("confirm_url") or "",
    ]
    origins = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme in ("http", "https") and parts.netloc:
            origins.append(f"{parts.scheme}://{parts.netloc}")
    return tuple(dict.fromkeys(origins))


# --- key files --------------------------------------------------------------------------------


def sandbox_key_paths() -> dict[str, Path]:
    """The four key files of the sandbox pair: our app key and the gateway's key."""
    base = key_dir()
    return {
        "app_private": base / "sandbox_app_private.pem",
        "app_public": base / "sandbox_app_public.pem",
        "gateway_private": base / "sandbox_gateway_private.pem",
        "gateway_public": base / "sandbox_gateway_public.pem",
    }


# Key folders whose sandbox pair this process has made sure of (generated or found).
_ENSURED: set[Path] = set()


def ensure_sandbox_keys() -> dict[str, Path]:
    """The sandbox pair's files, generated on first use. Checked once per process and folder:
    every sandbox call and every adapter built asks, and four file checks each time were a
    tenth of a millisecond apiece. A replaced key is still read anew (``private_key`` keys its
    cache by the file's mtime)."""
    paths = sandbox_key_paths()
    base = key_dir()
    if base not in _ENSURED:
        crypto.ensure_key_pair(paths["app_private"], paths["app_public"])
        crypto.ensure_key_pair(paths["gateway_private"], paths["gateway_public"])
        _ENSURED.add(base)
    return paths


@lru_cache(maxsize=32)
def _load_private(path: str, mtime: float) -> crypto.PrivateKey:
    return crypto.load_private_key(Path(path).read_bytes())


@lru_cache(maxsize=32)
def _load_public(path: str, mtime: float) -> crypto.PublicKey:
    return crypto.load_public_key(Path(path).read_bytes())


def private_key(path: str | Path) -> crypto.PrivateKey:
    path = Path(path)
    return _load_private(str(path), path.stat().st_mtime)


def public_key(path: str | Path) -> crypto.PublicKey:
    path = Path(path)
    return _load_public(str(path), path.stat().st_mtime)


def is_configured(name: str) -> bool:
    """Whether ``name`` has what it needs to talk to its provider."""
    config = provider_config(name)
    if name == "sandbox":
        return bool(settings.CREDIT_SANDBOX_ENABLED)
    if name == "zhima":
        return all(
            config.get(k) for k in ("app_id", "app_private_key_file", "alipay_public_key_file")
        )
    if name == "wechat_payscore":
        return all(
            config.get(k)
            for k in (
                "mchid",
                "appid",
                "service_id",
                "serial_no",
                "private_key_file",
                "platform_public_key_file",
                "platform_serial",
                "api_v3_key",
            )
        )
    return False
