"""Creating platform users and API keys. Every change is permission-checked and audited."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from xinyue.accounts.errors import LoginFailed, UsernameTaken, WeakPassword
from xinyue.accounts.models import ApiKey, LoginThrottle, User
from xinyue.accounts.selectors import actor_for_user
from xinyue.core import audit, clock, login_throttle
from xinyue.core.actors import Actor, ActorKind, Channel, Role
from xinyue.core.errors import InvalidInput, LoginThrottled, PermissionDenied
from xinyue.core.permissions import require_library, require_operator, roles_for
from xinyue.libraries.models import Library
from xinyue.suppliers.models import Supplier

TOKEN_PREFIX = "xy"


def _check_password(password: str, user: User | None = None) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise WeakPassword(fields={"password": " ".join(exc.messages)}) from None


def _new_user(*, username: str, password: str, **fields: object) -> User:
    username = username.strip()
    if not username:
        raise InvalidInput(fields={"username": _("请填写用户名")})
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(username=username)
    user = User(username=username, **fields)
    _check_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


@transaction.atomic
def create_staff_user(
    *,
    actor: Actor,
    library: Library,
    username: str,
    password: str,
    display_name: str = "",
    role: str = Role.DESK,
) -> User:
    """Add a staff member to ``library``: the operator anywhere, a library admin in their own library."""
    require_library(actor, library.pk, role=Role.ADMIN)
    if role not in {Role.DESK, Role.ADMIN}:
        raise InvalidInput(fields={"role": _("角色只能是流通台或馆管理员")})
    user = _new_user(
        username=username,
        password=password,
        kind=User.Kind.STAFF,
        library=library,
        role=role,
        display_name=display_name,
    )
    audit.record(
        actor=actor,
        action="staff.created",
        obj=user,
        library_code=library.code,
        role=role,
        username=username,
    )
    return user


@transaction.atomic
def create_operator_user(
    *, actor: Actor, username: str, password: str, display_name: str = ""
) -> User:
    require_operator(actor)
    user = _new_user(
        username=username,
        password=password,
        kind=User.Kind.OPERATOR,
        display_name=display_name,
        is_staff=True,
    )
    audit.record(actor=actor, action="operator.created", obj=user, username=username)
    return user


@transaction.atomic
def create_supplier_user(
    *, actor: Actor, supplier: Supplier, username: str, password: str, display_name: str = ""
) -> User:
    require_operator(actor)
    user = _new_user(
        username=username,
        password=password,
        kind=User.Kind.SUPPLIER,
        supplier=supplier,
        display_name=display_name,
    )
    audit.record(
        actor=actor,
        action="supplier_user.created",
        obj=user,
        supplier=supplier.code,
        username=username,
    )
    return user


@transaction.atomic
def set_user_active(*, actor: Actor, user: User, active: bool) -> User:
    """Disable or re-enable a platform user; staff admins only within their library."""
    if user.kind == User.Kind.STAFF:
        require_library(actor, user.library_id, role=Role.ADMIN)
    else:
        require_operator(actor)
    if user.pk == actor.user_id and not active:
        raise PermissionDenied(_("不能停用自己的账号"))
    user.is_active = active
    user.save(update_fields=["is_active"])
    audit.record(
        actor=actor,
        action="user.enabled" if active else "user.disabled",
        obj=user,
        library_code=user.library.code if user.library_id else "",
    )
    return user


def _hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@transaction.atomic
def create_api_key(
    *,
    actor: Actor,
    name: str,
    scope: str,
    library: Library | None = None,
    supplier: Supplier | None = None,
    role: str = "",
) -> tuple[ApiKey, str]:
    """Issue a key; returns the row and the token, which is shown once and never stored."""
    require_operator(actor)
    if not name.strip():
        raise InvalidInput(fields={"name": _("请填写名称")})
    if scope == ApiKey.Scope.LIBRARY:
        if library is None:
            raise InvalidInput(fields={"library": _("成员馆密钥必须指定成员馆")})
        role = role or Role.DESK
        if role not in {Role.DESK, Role.ADMIN}:
            raise InvalidInput(fields={"role": _("角色只能是 desk 或 admin")})
        supplier = None
    elif scope == ApiKey.Scope.SUPPLIER:
        if supplier is None:
            raise InvalidInput(fields={"supplier": _("书商密钥必须指定书商")})
        library, role = None, ""
    elif scope == ApiKey.Scope.PLATFORM:
        library, supplier, role = None, None, ""
    else:
        raise InvalidInput(fields={"scope": _("范围只能是 platform、library 或 supplier")})
    prefix = secrets.token_hex(4)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(
        name=name.strip(),
        prefix=prefix,
        secret_hash=_hash_secret(secret),
        scope=scope,
        library=library,
        supplier=supplier,
        role=role,
        created_by_id=actor.user_id,
    )
    audit.record(
        actor=actor,
        action="api_key.created",
        obj=key,
        library_code=library.code if library else "",
        scope=scope,
        prefix=prefix,
    )
    return key, f"{TOKEN_PREFIX}_{prefix}_{secret}"


@transaction.atomic
def revoke_api_key(*, actor: Actor, api_key: ApiKey) -> ApiKey:
    require_operator(actor)
    if api_key.revoked_at is None:
        api_key.revoked_at = clock.now()
        api_key.save(update_fields=["revoked_at", "updated_at"])
        audit.record(actor=actor, action="api_key.revoked", obj=api_key, prefix=api_key.prefix)
    return api_key


def authenticate_api_key(token: str, *, channel: Channel = Channel.API) -> Actor | None:
    """The actor behind a bearer token, or None for an unknown, malformed or revoked one."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        return None
    key = ApiKey.objects.select_related("library", "supplier").filter(prefix=parts[1]).first()
    if key is None or key.revoked_at is not None:
        return None
    if not hmac.compare_digest(key.secret_hash, _hash_secret(parts[2])):
        return None
    now = clock.now()
    if key.last_used_at is None or (now - key.last_used_at).total_seconds() > 300:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    kind = {
        ApiKey.Scope.PLATFORM: ActorKind.OPERATOR,
        ApiKey.Scope.LIBRARY: ActorKind.STAFF,
        ApiKey.Scope.SUPPLIER: ActorKind.SUPPLIER,
    }[ApiKey.Scope(key.scope)]
    return Actor(
        kind=kind,
        label=f"API key {key.name}",
        api_key_id=key.pk,
        library_id=key.library_id,
        supplier_id=key.supplier_id,
        roles=roles_for(key.role),
        channel=channel,
    )


# --- staff and operator log-in ------------------------------------------------------------------

LOGIN_PAGE_ACTOR = Actor(kind=ActorKind.SYSTEM, label="log-in page", channel=Channel.PC)


def _mask_username(username: str) -> str:
    """Enough to recognise an account, never a password typed into the wrong box."""
    text = username.strip()[:150]
    if len(text) <= 2:
        return "*" * len(text)
    return text[:2] + "*" * min(len(text) - 2, 8)


def mask_address(ip: str) -> str:
    """``10.1.*.*`` / ``2001:db8:*``: which network, not which machine."""
    if ":" in ip:
        return ":".join(ip.split(":")[:2]) + ":*"
    parts = ip.split(".")
    return ".".join([*parts[:2], "*", "*"]) if len(parts) == 4 else "*"


def _login_throttle_keys(username: str, ip: str) -> list[login_throttle.ThrottleKey]:
    keys: list[login_throttle.ThrottleKey] = [
        (
            LoginThrottle.Scope.USERNAME,
            login_throttle.keyed_hash("user", username.strip().casefold()),
            settings.XINYUE_LOGIN_MAX_FAILURES_PER_ID,
        )
    ]
    if ip:
        keys.append(
            (
                LoginThrottle.Scope.IP,
                login_throttle.keyed_hash("ip", ip),
                settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP,
            )
        )
    return keys


def _audit_login(action: str, *, user: User | None, username: str, ip: str, page: str) -> None:
    actor = actor_for_user(user) if user is not None and action == "staff.logged_in" else None
    with transaction.atomic():
        audit.record(
            actor=actor or LOGIN_PAGE_ACTOR,
            action=action,
            obj=user,
            object_type="" if user is not None else "accounts.user",
            library_code=user.library.code if user is not None and user.library_id else "",
            username=_mask_username(username),
            address=mask_address(ip),
            page=page,
        )


def authenticate_staff(
    *, request: HttpRequest | None, username: str, password: str, ip: str, page: str
) -> User:
    """The platform user with these credentials, or a refusal (``LoginFailed``, or
    ``LoginThrottled`` while the account or the address is locked — checked before the password,
    so the right one does not help a guesser). Every attempt is audited, masked, without the
    password. ``page`` says where (``console`` or ``backoffice``)."""
    now = clock.now()
    keys = _login_throttle_keys(username, ip)
    known = User.objects.filter(username=username).exclude(kind=User.Kind.READER).first()
    try:
        login_throttle.check(LoginThrottle, keys, now)
    except LoginThrottled:
        _audit_login("staff.login_throttled", user=known, username=username, ip=ip, page=page)
        raise
    user = authenticate(request, username=username, password=password)
    if user is None or user.kind == User.Kind.READER:
        login_throttle.record_failure(LoginThrottle, keys, now)
        _audit_login("staff.login_failed", user=known, username=username, ip=ip, page=page)
        raise LoginFailed()
    login_throttle.clear(LoginThrottle, keys[0][0], keys[0][1])
    _audit_login("staff.logged_in", user=user, username=username, ip=ip, page=page)
    return user
