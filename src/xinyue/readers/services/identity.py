"""Reader identity: registration, log-in (throttled), page sessions, passwords, channel identities."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import time
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth import login as django_login
from django.contrib.auth import logout as django_logout
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.cache import caches
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _

from xinyue.accounts.models import User
from xinyue.core import audit, clock, login_throttle
from xinyue.core.actors import Actor, ActorKind, Channel
from xinyue.core.clients import client_address
from xinyue.core.errors import InvalidInput
from xinyue.core.history import record_transition
from xinyue.core.permissions import Action, require_reader
from xinyue.readers import sms, vault
from xinyue.readers.errors import (
    AccountDisabled,
    ChannelIdentityTaken,
    IdNumberTaken,
    LoginFailed,
    UnlockCodeInvalid,
    WrongPassword,
)
from xinyue.readers.masking import mask_name
from xinyue.readers.models import (
    ChannelIdentity,
    ConsentPurpose,
    LoginThrottle,
    Reader,
    ReaderEvent,
)
from xinyue.readers.validation import (
    check_registration_age,
    clean_name,
    clean_phone,
    parse_id_number,
)

log = logging.getLogger(__name__)

SESSION_BACKEND = "django.contrib.auth.backends.ModelBackend"


def reader_actor(reader: Reader, *, channel: Channel = Channel.PC) -> Actor:
    """The ``Actor`` a reader acts as (pages, API tokens, channel apps)."""
    return Actor(
        kind=ActorKind.READER,
        label=f"reader:{reader.pk}",
        user_id=reader.user_id,
        reader_id=reader.pk,
        channel=channel,
    )


def require_self(actor: Actor, reader: Reader) -> None:
    """Readers act only on themselves; the system (jobs, commands) on anyone."""
    require_reader(actor, reader.pk, Action.OWN_ACCOUNT, message=_("只能操作本人的账户"))


def id_number_index(number: str) -> str:
    """The blind index of a validated (18-character) ID number."""
    return vault.blind_index("id_number", number)


def _check_new_password(password: str) -> None:
    try:
        validate_password(password)
    except ValidationError as exc:
        raise InvalidInput(fields={"password": " ".join(exc.messages)}) from None


def record_reader_event(
    reader: Reader, actor: Actor, *, from_state: str, to_state: str, note: str = "", **options: Any
) -> None:
    record_transition(
        ReaderEvent,
        reader=reader,
        actor=actor,
        from_state=from_state,
        to_state=to_state,
        note=note,
        **options,
    )


def register_reader(
    *,
    id_number: str,
    name: str,
    phone: str,
    password: str,
    consents: list[str] | tuple[str, ...] = (ConsentPurpose.ID_NUMBER,),
    channel: Channel = Channel.PC,
    ip: str = "",
) -> Reader:
    """Create a reader: validate every field (all errors at once), one reader per ID number, PII
    sealed in the vault, derived facts in clear, consents recorded, audited.

    "Already registered" tells whether an ID number has an account, so each such answer counts as
    a failure of the client address ``ip`` in the log-in throttle: probing many numbers from one
    address gets locked out like guessing passwords does.

    ``consents`` must include ``id_number``: registering means processing the ID number (sensitive
    personal information, PIPL art. 29), so the reader's separate consent to it is required.
    """
    from xinyue.readers.services.consents import grant_consent
    from xinyue.readers.services.phone import maybe_send_code_after_registration

    errors: dict[str, str] = {}
    parsed = None
    try:
        parsed = parse_id_number(id_number)
        check_registration_age(parsed)
    except InvalidInput as exc:
        errors.update(exc.fields)
    clean = {}
    for field, cleaner, raw in (("name", clean_name, name), ("phone", clean_phone, phone)):
        try:
            clean[field] = cleaner(raw)
        except InvalidInput as exc:
            errors.update(exc.fields)
    try:
        _check_new_password(password)
    except InvalidInput as exc:
        errors.update(exc.fields)
    unknown = sorted(set(consents) - set(ConsentPurpose.values))
    if unknown:
        errors["consents"] = _("未知的授权用途：%(p)s") % {"p": ", ".join(unknown)}
    elif ConsentPurpose.ID_NUMBER not in consents:
        errors["consent_id_number"] = _("注册需要同意处理您的身份证号")
    if errors:
        raise InvalidInput(fields=errors)
    assert parsed is not None

    ip_keys = _ip_throttle_keys(ip)
    _check_throttle(ip_keys, clock.now())
    index = id_number_index(parsed.number)
    uid = uuid.uuid4()
    password_hash = make_password(password)  # slow on purpose: outside the write transaction
    try:
        with transaction.atomic():
            if Reader.objects.filter(id_number_index=index).exists():
                raise IdNumberTaken(fields={"id_number": str(IdNumberTaken.default_message)})
            user = User(
                username=f"reader-{uid.hex}",
                kind=User.Kind.READER,
                display_name=mask_name(clean["name"]),
            )
            user.set_unusable_password()
            user.save()
            reader = Reader(
                uid=uid,
                user=user,
                password=password_hash,
                id_number_index=index,
                gender=parsed.gender,
                birth_year=parsed.birth_year,
                region_code=parsed.region_code,
            )
            vault.seal(reader, "id_number_ct", parsed.number)
            vault.seal(reader, "name_ct", clean["name"])
            vault.seal(reader, "phone_ct", clean["phone"])
            reader.save()
            actor = reader_actor(reader, channel=channel)
            record_reader_event(reader, actor, from_state="", to_state="registered")
            for purpose in dict.fromkeys(consents):
                grant_consent(actor=actor, reader=reader, purpose=purpose)
            audit.record(
                actor=actor,
                action="reader.registered",
                obj=reader,
                converted_from_15=parsed.converted_from_15,
                region_code=parsed.region_code,
            )
            maybe_send_code_after_registration(reader=reader)
    except (IdNumberTaken, IntegrityError):
        # (IntegrityError: two registrations of one number at the same moment; the index decided.)
        _record_failure(ip_keys, clock.now())
        raise IdNumberTaken(fields={"id_number": str(IdNumberTaken.default_message)}) from None
    log.info("reader %s registered via %s", reader.pk, channel.value)
    return reader


# --- log-in throttling ---------------------------------------------------------------------


def _ip_throttle_keys(ip: str) -> list[tuple[str, str, int]]:
    if not ip:
        return []
    return [
        (
            LoginThrottle.Scope.IP,
            vault.blind_index("ip", ip),
            settings.XINYUE_LOGIN_MAX_FAILURES_PER_IP,
        )
    ]


def _throttle_keys(id_number: str, ip: str) -> list[tuple[str, str, int]]:
    """(scope, key, limit): the ID number's blind index (of the normalised or raw input, so a
    malformed number is throttled too) and a keyed hash of the client address."""
    try:
        normalised = parse_id_number(id_number).number
    except InvalidInput:
        normalised = (id_number or "").strip().upper()
    return [
        (
            LoginThrottle.Scope.ID_NUMBER,
            id_number_index(normalised),
            settings.XINYUE_LOGIN_MAX_FAILURES_PER_ID,
        ),
        *_ip_throttle_keys(ip),
    ]


def _check_throttle(keys: list[tuple[str, str, int]], now: dt.datetime) -> None:
    login_throttle.check(LoginThrottle, keys, now)


def _record_failure(keys: list[tuple[str, str, int]], now: dt.datetime) -> None:
    """Count the failure; when it locks the ID number, its reader is told by SMS with a code that
    lifts the lock."""
    lockout = dt.timedelta(minutes=settings.XINYUE_LOGIN_LOCKOUT_MINUTES)
    for scope, key, _limit in login_throttle.record_failure(LoginThrottle, keys, now):
        if scope == LoginThrottle.Scope.ID_NUMBER:
            _send_unlock_code_on_commit(key, lockout)


# --- unlocking a locked ID number by SMS ------------------------------------------------------
# Anyone who knows an ID number can lock its reader out by failing to log in; the lock stays (it
# stops guessing), but the reader is told by SMS and may lift it with the code in that message.

UNLOCK_MAX_ATTEMPTS = 5


def _unlock_cache_key(index: str) -> str:
    return f"login-unlock:{index}"


def _send_unlock_code_on_commit(index: str, lockout: dt.timedelta) -> None:
    def send() -> None:
        reader = Reader.objects.filter(id_number_index=index, deleted_at__isnull=True).first()
        if reader is None or not reader.phone_ct:
            return  # an unknown number: nobody to tell (and the lock reveals nothing)
        code = f"{secrets.randbelow(1_000_000):06d}"
        caches["shared"].set(
            _unlock_cache_key(index),
            {
                "hash": vault.blind_index(f"unlock:{reader.uid}", code),
                "attempts": 0,
                "until": time.time() + lockout.total_seconds(),
            },
            timeout=int(lockout.total_seconds()),
        )
        minutes = int(lockout.total_seconds() // 60)
        text = _(
            "【信阅】您的账号因多次输错密码已暂停登录%(minutes)d分钟。如是本人，可用验证码 "
            "%(code)s 立即解锁；如非本人操作，请勿告知他人并尽快修改密码。"
        ) % {"minutes": minutes, "code": code}
        try:
            sms.sender().send(phone=vault.unseal(reader, "phone_ct"), text=text)
        except sms.SmsSendError as exc:
            log.warning("unlock SMS to reader %s failed: %s", reader.pk, exc)
        with transaction.atomic():
            audit.record(actor=reader_actor(reader), action="reader.login_locked", obj=reader)

    transaction.on_commit(send)


def unlock_reader_login(*, id_number: str, code: str, ip: str = "") -> None:
    """Lift the log-in lock on ``id_number`` with the code sent by SMS when it was locked. A
    wrong code counts against the client address like a failed log-in; five spend the code."""
    now = clock.now()
    ip_keys = _ip_throttle_keys(ip)
    _check_throttle(ip_keys, now)
    try:
        number = parse_id_number(id_number).number
    except InvalidInput:
        number = None
    index = id_number_index(number) if number else ""
    cache = caches["shared"]
    pending = cache.get(_unlock_cache_key(index)) if index else None
    reader = (
        Reader.objects.filter(id_number_index=index, deleted_at__isnull=True).first()
        if pending
        else None
    )
    code = (code or "").strip()
    right = (
        reader is not None
        and pending is not None
        and pending["attempts"] < UNLOCK_MAX_ATTEMPTS
        and hmac.compare_digest(pending["hash"], vault.blind_index(f"unlock:{reader.uid}", code))
    )
    if not right or reader is None:
        if pending is not None:
            pending["attempts"] += 1
            remaining = max(1, int(pending["until"] - time.time()))
            cache.set(_unlock_cache_key(index), pending, timeout=remaining)
        _record_failure(ip_keys, now)
        raise UnlockCodeInvalid(fields={"code": _("验证码不正确或已失效")})
    with transaction.atomic():
        LoginThrottle.objects.filter(scope=LoginThrottle.Scope.ID_NUMBER, key=index).delete()
        audit.record(actor=reader_actor(reader), action="reader.login_unlocked", obj=reader)
    cache.delete(_unlock_cache_key(index))
    log.info("reader %s lifted the log-in lock by SMS code", reader.pk)


def authenticate_reader(*, id_number: str, password: str, ip: str = "") -> Reader:
    """The reader with this ID number and password, or a refusal. Guessing is throttled per ID
    number (blind index) and per client address, in the database so every process shares it.

    A locked key is refused before the password is even checked. An unknown ID number costs the
    same password hashing as a known one and gets the same message."""
    now = clock.now()
    keys = _throttle_keys(id_number, ip)
    _check_throttle(keys, now)
    reader = None
    try:
        number = parse_id_number(id_number).number
    except InvalidInput:
        number = None
    if number is not None:
        reader = (
            Reader.objects.select_related("user")
            .filter(id_number_index=id_number_index(number))
            .first()
        )
    if reader is None or not reader.password:
        make_password(password)  # same work as a real check: no timing oracle
        _record_failure(keys, now)
        log.info("reader login failed (unknown id number)")
        raise LoginFailed()
    if not check_password(password, reader.password):
        _record_failure(keys, now)
        log.info("reader %s login failed (password)", reader.pk)
        raise LoginFailed()
    if not reader.is_active or reader.user is None or not reader.user.is_active:
        raise AccountDisabled()
    login_throttle.clear(LoginThrottle, LoginThrottle.Scope.ID_NUMBER, keys[0][1])
    return reader


def client_ip(request: HttpRequest) -> str:
    """The client address (``core/clients.py``: REMOTE_ADDR, or X-Forwarded-For behind the
    configured number of trusted proxies)."""
    return client_address(request)


def login_reader(request: HttpRequest, reader: Reader) -> None:
    """Start a page session for ``reader`` (after a password check, or a verified channel login).
    The session survives: Django keeps its data (the anonymous bookshelf) across ``login``."""
    if not reader.is_active or reader.user is None or not reader.user.is_active:
        raise AccountDisabled()
    from xinyue.accounts.middleware import request_channel

    django_login(request, reader.user, backend=SESSION_BACKEND)
    actor = reader_actor(reader, channel=request_channel(request))
    with transaction.atomic():
        audit.record(actor=actor, action="reader.logged_in", obj=reader)
    log.info("reader %s logged in", reader.pk)


def logout_reader(request: HttpRequest) -> None:
    django_logout(request)


@transaction.atomic
def change_password(*, actor: Actor, reader: Reader, old_password: str, new_password: str) -> None:
    """Change the password; every other session and every API token of the reader ends."""
    from xinyue.readers.services.tokens import revoke_all_tokens

    require_self(actor, reader)
    if not check_password(old_password, reader.password):
        raise WrongPassword(fields={"old_password": _("原密码不正确")})
    _check_new_password(new_password)
    reader.password = make_password(new_password)
    reader.save(update_fields=["password", "updated_at"])
    if reader.user is not None:
        # A new unusable password changes the session hash: other sessions are logged out.
        reader.user.set_unusable_password()
        reader.user.save(update_fields=["password"])
    revoke_all_tokens(reader=reader)
    audit.record(actor=actor, action="reader.password_changed", obj=reader)


def verify_password(*, reader: Reader, password: str) -> None:
    """Step-up check before a sensitive action (full export, account deletion)."""
    if not reader.password or not check_password(password, reader.password):
        raise WrongPassword(fields={"password": _("密码不正确")})


# --- channel identities (the credit app's OAuth log-in) ---------------------------------------


@transaction.atomic
def bind_channel_identity(
    *, reader: Reader, provider: str, external_id: str, channel: Channel = Channel.PC
) -> None:
    """Bind a provider identity (Alipay user_id, WeChat openid …) to ``reader``; idempotent. The
    caller has verified it through the provider's OAuth. An identity bound to another reader is
    refused; a different identity of the same provider replaces the reader's old one."""
    provider, external_id = provider.strip(), external_id.strip()
    if not provider or not external_id:
        raise InvalidInput(fields={"external_id": _("缺少渠道账号")})
    other = ChannelIdentity.objects.filter(provider=provider, external_id=external_id).first()
    if other is not None:
        if other.reader_id != reader.pk:
            raise ChannelIdentityTaken(provider=provider)
        return
    actor = reader_actor(reader, channel=channel)
    replaced = ChannelIdentity.objects.filter(reader=reader, provider=provider).delete()[0]
    ChannelIdentity.objects.create(reader=reader, provider=provider, external_id=external_id)
    audit.record(
        actor=actor,
        action="reader.channel_bound",
        obj=reader,
        provider=provider,
        replaced=bool(replaced),
    )
