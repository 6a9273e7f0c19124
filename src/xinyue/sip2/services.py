"""Kiosk accounts: created and changed by a library's admin (or the operator), audited.

The SIP2 server itself (``server.py``) only reads accounts (``authenticate_kiosk``); every change
goes through here, so the audit log tells who gave which kiosk access to which library.
"""

from __future__ import annotations

import re
from functools import cache

from django.contrib.auth.hashers import check_password, make_password
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from xinyue.core import audit
from xinyue.core.actors import Actor, ActorKind, Channel, Role
from xinyue.core.errors import InvalidInput
from xinyue.core.permissions import Action, require
from xinyue.libraries.models import Library
from xinyue.sip2.models import Charset, KioskAccount

# Printable ASCII without the SIP2 field delimiter: what a kiosk's 93 CN field can carry.
LOGIN_PATTERN = re.compile(r"^[A-Za-z0-9_.@-]{3,40}$")
LOCATION_PATTERN = re.compile(r"^[\x21-\x7b\x7d\x7e]{0,40}$")  # printable, no blank, no "|"
MIN_PASSWORD_LENGTH = 8


@cache
def _dummy_hash() -> str:
    """A hash to check unknown logins against (same work as a real check: no timing oracle).
    Made on first use: at import it cost every process's start-up one full PBKDF2 run."""
    return make_password("timing-equaliser")


def _validate(*, login: str | None, password: str | None, charset: str, location_code: str):
    errors: dict[str, str] = {}
    if login is not None and not LOGIN_PATTERN.match(login):
        errors["login"] = _("3–40 个字母、数字或 _ . @ -")
    if password is not None and (
        len(password) < MIN_PASSWORD_LENGTH
        or len(password) > 64
        or any(ch in password for ch in "|\r\n")
        or not password.isascii()
    ):
        errors["password"] = _("8–64 个 ASCII 字符，不能含 | 或换行")
    if charset not in Charset.values:
        errors["charset"] = _("只支持 GBK、GB18030 或 UTF-8")
    if not LOCATION_PATTERN.match(location_code):
        errors["location_code"] = _("最多 40 个可打印 ASCII 字符，不能含空格或 |")
    if errors:
        raise InvalidInput(fields=errors)


def create_kiosk_account(
    *,
    actor: Actor,
    library: Library,
    login: str,
    password: str,
    charset: str = Charset.GBK,
    location_code: str = "",
    error_detection: bool = True,
) -> KioskAccount:
    """A new kiosk login for ``library``; the password is stored only as a hash."""
    require(actor, Action.MANAGE_KIOSKS, library_id=library.pk)
    login, location_code = login.strip(), location_code.strip()
    _validate(login=login, password=password, charset=charset, location_code=location_code)
    password_hash = make_password(password)  # slow on purpose: outside the write transaction
    try:
        with transaction.atomic():
            account = KioskAccount.objects.create(
                library=library,
                login=login,
                password=password_hash,
                charset=charset,
                location_code=location_code,
                error_detection=error_detection,
            )
            audit.record(
                actor=actor,
                action="kiosk.created",
                obj=account,
                library_code=library.code,
                login=login,
                charset=charset,
                location_code=location_code,
                error_detection=error_detection,
            )
    except IntegrityError:
        raise InvalidInput(fields={"login": _("登录名已被使用")}) from None
    return account


def change_kiosk_account(
    *,
    actor: Actor,
    account: KioskAccount,
    charset: str,
    location_code: str,
    error_detection: bool,
    is_active: bool,
    password: str = "",
) -> KioskAccount:
    """Change a kiosk's settings; a non-empty ``password`` replaces the old one. A kiosk already
    connected keeps its session until it logs in again (the server reads the account at 93)."""
    require(actor, Action.MANAGE_KIOSKS, library_id=account.library_id)
    location_code = location_code.strip()
    _validate(login=None, password=password or None, charset=charset, location_code=location_code)
    password_hash = make_password(password) if password else ""
    with transaction.atomic():
        account = KioskAccount.objects.select_for_update().get(pk=account.pk)
        before = {
            "charset": account.charset,
            "location_code": account.location_code,
            "error_detection": account.error_detection,
            "is_active": account.is_active,
        }
        account.charset = charset
        account.location_code = location_code
        account.error_detection = error_detection
        account.is_active = is_active
        if password_hash:
            account.password = password_hash
        account.save()
        after = {key: getattr(account, key) for key in before}
        audit.record(
            actor=actor,
            action="kiosk.changed",
            obj=account,
            library_code=account.library.code,
            login=account.login,
            changed={k: [before[k], after[k]] for k in before if before[k] != after[k]},
            password_changed=bool(password_hash),
        )
    return account


def authenticate_kiosk(*, login: str, password: str) -> KioskAccount | None:
    """The active account with this login and password, or None (same work either way)."""
    account = (
        KioskAccount.objects.select_related("library").filter(login=login, is_active=True).first()
    )
    if account is None:
        check_password(password, _dummy_hash())
        return None
    return account if check_password(password, account.password) else None


def kiosk_actor(account: KioskAccount) -> Actor:
    """A kiosk acts for its library like desk staff, through the kiosk channel; audit and event
    rows name it ``kiosk:<id>``."""
    return Actor(
        kind=ActorKind.STAFF,
        label=f"kiosk {account.login}",
        kiosk_id=account.pk,
        library_id=account.library_id,
        roles=frozenset({Role.DESK}),
        channel=Channel.KIOSK,
    )
