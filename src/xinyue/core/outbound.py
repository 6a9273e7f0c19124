"""Outbound HTTP to addresses that members of the public typed in (webhooks, card checks).

A URL given by a library (a webhook, the REST card-check endpoint) must never reach the inside:
loopback, private, link-local (cloud metadata), reserved, multicast, unspecified, and the odd
spellings of them (``0x7f000001``, ``2130706433``, ``[::ffff:127.0.0.1]``, ``localhost``). It is
checked twice, by ``ssrfguard``: when it is saved (``check_url``), and when we connect
(``session``), where the name is resolved once, every answer checked, and the connection made to
the address that was checked — so a DNS answer changed after saving (rebinding) gains nothing.

The operator may allow one library's own network explicitly (its ``outbound_allow_networks``
setting, audited); nothing else widens the policy.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

from django.utils.translation import gettext as _
from ssrfguard import Policy, SSRFGuardError, resolve
from ssrfguard.requests import Session

from xinyue.core.errors import InvalidInput

# Web ports, and the unprivileged range where library systems often listen (8080, 8443, …);
# not the well-known ports of mail, SSH, databases.
PORTS = frozenset({80, 443, *range(1024, 65536)})
# Hosts that are loopback by name, and hosts made only of numbers (decimal, octal or hex parts):
# refused as written, before any resolver is asked what it makes of them.
_LOCAL_NAME = re.compile(r"(^|\.)localhost\.?$", re.IGNORECASE)
_NUMERIC_HOST = re.compile(r"^(0x[0-9a-f]*|[0-9]+)(\.(0x[0-9a-f]*|[0-9]+))*\.?$", re.IGNORECASE)


class OutboundRefused(Exception):
    """The destination is not one we may connect to."""


def parse_networks(
    values: Iterable[Any],
) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """CIDR strings → networks; ``ValueError`` naming the bad one."""
    networks = []
    for value in values:
        try:
            networks.append(ipaddress.ip_network(str(value).strip(), strict=False))
        except ValueError:
            raise ValueError(str(value)) from None
    return tuple(networks)


def policy(allowed_networks: Iterable[Any] = ()) -> Policy:
    return Policy(
        allowed_ports=PORTS,
        allowed_networks=parse_networks(allowed_networks),
        max_redirects=0,
    )


def _refuse_odd_host(url: str, allowed: tuple) -> None:
    host = (urlsplit(url).hostname or "").strip()
    if allowed:  # the operator allowed a network: the resolver's answer is checked against it
        return
    if _LOCAL_NAME.search(host) or (_NUMERIC_HOST.match(host) and not _is_dotted_quad(host)):
        raise OutboundRefused(host)


def _is_dotted_quad(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True


def check_url(url: str, *, field: str, allowed_networks: Iterable[Any] = ()) -> str:
    """At save time: refuse (``InvalidInput`` naming ``field``) a URL that is not http(s) or
    that names or resolves to an address inside. A name that does not resolve now is accepted:
    the check at connect time decides."""
    allowed = tuple(allowed_networks)
    message = _("不允许的地址：不能指向本机、内网、链路本地或保留地址")
    try:
        guard = policy(allowed)
        _refuse_odd_host(url, allowed)
        target = guard.check_url(url)
    except (SSRFGuardError, OutboundRefused):
        raise InvalidInput(fields={field: message}) from None
    except ValueError:
        raise InvalidInput(fields={field: _("应为 http:// 或 https:// 开头的网址")}) from None
    try:
        resolve(target, policy=guard)
    except SSRFGuardError:
        raise InvalidInput(fields={field: message}) from None
    except OSError:
        pass  # no answer from DNS now; checked again when we connect
    return url


def session(allowed_networks: Iterable[Any] = ()) -> Session:
    """A ``requests`` session that connects only to checked addresses (redirects refused)."""
    return Session(policy=policy(allowed_networks))


def post(url: str, *, allowed_networks: Iterable[Any] = (), **kwargs: Any) -> Any:
    """``requests.post`` through the guard: ``OutboundRefused`` before any connection to an
    address inside, ``requests`` exceptions otherwise."""
    allowed = tuple(allowed_networks)
    try:
        _refuse_odd_host(url, allowed)
        with session(allowed) as guarded:
            return guarded.post(url, allow_redirects=False, **kwargs)
    except SSRFGuardError as exc:
        raise OutboundRefused(str(exc)) from None


__all__ = ["OutboundRefused", "check_url", "parse_networks", "post", "session"]
