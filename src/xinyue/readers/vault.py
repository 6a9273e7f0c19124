"""The PII vault: field-level encryption and the keyed blind index (DESIGN §6).

Ciphertext format (one text column per value)::

    <key id>$<base64(nonce ‖ ciphertext ‖ tag)>

- AEAD: AES-256-GCM (default) or SM4-GCM (``XINYUE_VAULT_ALGORITHM=sm4-gcm``), a fresh random
  96-bit nonce per value, a 128-bit tag. Both come from ``cryptography`` (SM4 in GCM mode through
  its ``Cipher`` API on an OpenSSL that has SM4).
- AAD: ``xinyue-vault/1|<table>|<column>|<row uid>|<key id>``: a ciphertext copied to another
  column or row, or relabelled with another key id, fails to open.
- Keys live outside the database: ``XINYUE_VAULT_KEYS`` (``id:algorithm:base64key`` entries,
  comma-separated, the first is current) or, when that is unset, a key file generated on first use
  in the data directory (``vault_keys.json``, mode 0600). Several keys coexist; the current one
  seals, any known one opens. The file is re-read when it changes on disk, so a key rotation
  (``xinyue rotate-keys``) reaches every running process without a restart.
- Blind index: ``HMAC-SHA256(index key, "<purpose>|<normalised value>")`` hex; the index key is
  separate from the encryption keys (``XINYUE_BLIND_INDEX_KEY`` or a file in the data directory).

Encrypted columns are ``SealedTextField``s; ``sealed_fields()`` finds every one in every app, which
is what key rotation walks.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import os
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.apps import apps
from django.conf import settings
from django.db import models

from xinyue import config
from xinyue.core import clock

AES_256_GCM = "aes-256-gcm"
SM4_GCM = "sm4-gcm"
ALGORITHMS = {AES_256_GCM: 32, SM4_GCM: 16}  # key sizes in bytes
NONCE_BYTES = 12
TAG_BYTES = 16
SEPARATOR = "$"


class VaultError(Exception):
    """A ciphertext cannot be opened (unknown key, tampered, wrong row/column) or keys are bad."""


# --- the encrypted column ------------------------------------------------------------------


class SealedTextField(models.TextField):
    """A text column that holds vault ciphertext only. ``row_field`` names the model field whose
    value binds the ciphertext to its row (a UUID set before the first save)."""

    def __init__(self, *args: Any, row_field: str = "uid", **kwargs: Any) -> None:
        self.row_field = row_field
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.row_field != "uid":
            kwargs["row_field"] = self.row_field
        return name, path, args, kwargs


def sealed_fields() -> Iterator[tuple[type[models.Model], list[SealedTextField]]]:
    """Every model of every installed app with its sealed columns (for rotation and checks)."""
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, SealedTextField)]
        if fields:
            yield model, fields


# --- keys ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Key:
    id: str
    algorithm: str
    secret: bytes


@dataclass(frozen=True)
class Keyring:
    current: Key
    keys: dict[str, Key]
    source: str  # "env" or the key file path


_lock = threading.Lock()
_cache: dict[str, Any] = {"keyring": None, "stamp": None}


def configured_algorithm() -> str:
    algorithm = settings.XINYUE_VAULT_ALGORITHM.lower()
    if algorithm not in ALGORITHMS:
        raise config.ConfigError(
            f"XINYUE_VAULT_ALGORITHM={algorithm!r} is not supported: use aes-256-gcm or sm4-gcm"
        )
    return algorithm


def key_file() -> Path:
    return _path(settings.XINYUE_VAULT_KEY_FILE or str(config.data_dir() / "vault_keys.json"))


@functools.lru_cache(maxsize=8)
def _path(name: str) -> Path:
    """The key file's ``Path`` per setting (built on every seal and unseal before)."""
    return Path(name)


def _env_keys() -> str:
    return settings.XINYUE_VAULT_KEYS or ""


def new_key(*, algorithm: str, existing: set[str]) -> Key:
    """A fresh random key with an id not yet in ``existing`` (``a1, a2 …`` / ``s1, s2 …``)."""
    letter = "s" if algorithm == SM4_GCM else "a"
    n = 1
    while f"{letter}{n}" in existing:
        n += 1
    return Key(id=f"{letter}{n}", algorithm=algorithm, secret=os.urandom(ALGORITHMS[algorithm]))


def _check_key(key_id: str, algorithm: str, secret: bytes, where: str) -> Key:
    if not key_id or SEPARATOR in key_id or ":" in key_id or len(key_id) > 16:
        raise config.ConfigError(
            f"{where}: key id {key_id!r} must be 1–16 characters without $ or :"
        )
    if algorithm not in ALGORITHMS:
        raise config.ConfigError(f"{where}: key {key_id} has unknown algorithm {algorithm!r}")
    if len(secret) != ALGORITHMS[algorithm]:
        raise config.ConfigError(
            f"{where}: key {key_id} must be {ALGORITHMS[algorithm]} bytes for {algorithm}"
        )
    return Key(id=key_id, algorithm=algorithm, secret=secret)


def _parse_env(value: str) -> Keyring:
    keys: list[Key] = []
    for entry in value.split(","):
        entry = entry.strip()
        if not entry:
            continue
        try:
            key_id, algorithm, b64 = entry.split(":", 2)
            secret = base64.b64decode(b64, validate=True)
        except ValueError:
            raise config.ConfigError(
                "XINYUE_VAULT_KEYS: each entry is id:algorithm:base64key, e.g. a1:aes-256-gcm:…"
            ) from None
        keys.append(_check_key(key_id, algorithm.lower(), secret, "XINYUE_VAULT_KEYS"))
    if not keys:
        raise config.ConfigError("XINYUE_VAULT_KEYS is set but holds no key")
    return Keyring(current=keys[0], keys={k.id: k for k in keys}, source="env")


def _read_file(path: Path) -> Keyring:
    try:
        data = json.loads(path.read_text())
        keys = [
            _check_key(k["id"], k["algorithm"], base64.b64decode(k["key"]), str(path))
            for k in data["keys"]
        ]
        by_id = {k.id: k for k in keys}
        return Keyring(current=by_id[data["current"]], keys=by_id, source=str(path))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise config.ConfigError(
            f"the vault key file {path} is unreadable or malformed ({exc})"
        ) from exc


def write_key_file(path: Path, *, current: Key, keys: list[Key]) -> None:
    """Write the key file atomically (a temporary file renamed over it), mode 0600."""
    data = {
        "current": current.id,
        "keys": [
            {"id": k.id, "algorithm": k.algorithm, "key": base64.b64encode(k.secret).decode()}
            for k in keys
        ],
        "updated_at": clock.now().isoformat(),
    }
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def _create_key_file(path: Path) -> None:
    """The first key, written complete to a temporary file and hard-linked into place: another
    process starting at the same moment either finds nothing or the whole file, and the one that
    loses the race uses the winner's key."""
    first = new_key(algorithm=configured_algorithm(), existing=set())
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.new")
    write_key_file(tmp, current=first, keys=[first])
    try:
        os.link(tmp, path)
    except FileExistsError:
        pass
    finally:
        tmp.unlink()


def _stamp(path: Path) -> tuple[Any, ...]:
    try:
        st = path.stat()
    except FileNotFoundError:
        return ("missing",)
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def keyring(*, refresh: bool = False) -> Keyring:
    """The keys in force. Env keys are read once; the key file whenever it changed on disk."""
    env = _env_keys()
    if env:
        stamp: tuple[Any, ...] = ("env", env)
    else:
        path = key_file()
        stamp = (str(path), *_stamp(path))
    cached = _cache["keyring"]
    if cached is not None and not refresh and _cache["stamp"] == stamp:
        return cached
    with _lock:
        if env:
            ring = _parse_env(env)
        else:
            path = key_file()
            if not path.exists():
                _create_key_file(path)
            ring = _read_file(path)
            stamp = (str(path), *_stamp(path))
        _cache["keyring"], _cache["stamp"] = ring, stamp
        return ring


def add_current_key(*, algorithm: str | None = None) -> Key:
    """Generate a new key and make it current in the key file (the old ones stay, to open old
    ciphertexts). Only for the key-file mode: environment keys are changed by the operator."""
    if _env_keys():
        raise config.ConfigError(
            "vault keys come from XINYUE_VAULT_KEYS: put a new key first in that variable "
            "(xinyue rotate-keys --print-new-key makes one), restart, then run xinyue rotate-keys"
        )
    ring = keyring(refresh=True)
    key = new_key(algorithm=algorithm or configured_algorithm(), existing=set(ring.keys))
    write_key_file(key_file(), current=key, keys=[*ring.keys.values(), key])
    keyring(refresh=True)
    return key


def drop_keys_except_current() -> list[str]:
    """Remove every non-current key from the key file (after a completed rotation)."""
    ring = keyring(refresh=True)
    if ring.source == "env":
        raise config.ConfigError("vault keys come from XINYUE_VAULT_KEYS: edit that variable")
    dropped = [k for k in ring.keys if k != ring.current.id]
    write_key_file(key_file(), current=ring.current, keys=[ring.current])
    keyring(refresh=True)
    return dropped


# --- sealing -------------------------------------------------------------------------------


def _aad(table: str, column: str, row: str, key_id: str) -> bytes:
    return f"xinyue-vault/1|{table}|{column}|{row}|{key_id}".encode()


def _encrypt(key: Key, nonce: bytes, plaintext: bytes, aad: bytes) -> bytes:
    if key.algorithm == AES_256_GCM:
        return AESGCM(key.secret).encrypt(nonce, plaintext, aad)
    encryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(aad)
    return encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag


def _decrypt(key: Key, nonce: bytes, data: bytes, aad: bytes) -> bytes:
    if key.algorithm == AES_256_GCM:
        return AESGCM(key.secret).decrypt(nonce, data, aad)
    if len(data) < TAG_BYTES:
        raise InvalidTag()
    body, tag = data[:-TAG_BYTES], data[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key.secret), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(aad)
    return decryptor.update(body) + decryptor.finalize()


def seal_value(value: str, *, table: str, column: str, row: str, key: Key | None = None) -> str:
    """Encrypt ``value`` for (table, column, row) under the current key (``key``, when the
    caller looked it up already). ``""`` stays ``""``."""
    if value == "":
        return ""
    key = key or keyring().current
    nonce = os.urandom(NONCE_BYTES)
    data = _encrypt(key, nonce, value.encode(), _aad(table, column, row, key.id))
    return f"{key.id}{SEPARATOR}{base64.b64encode(nonce + data).decode()}"


def open_value(token: str, *, table: str, column: str, row: str) -> str:
    """Decrypt a vault ciphertext; raises ``VaultError`` on any mismatch or tampering."""
    if token == "":
        return ""
    key_id, sep, b64 = token.partition(SEPARATOR)
    if not sep:
        raise VaultError("not a vault ciphertext")
    ring = keyring()
    key = ring.keys.get(key_id) or keyring(refresh=True).keys.get(key_id)
    if key is None:
        raise VaultError(f"unknown vault key {key_id!r}")
    try:
        raw = base64.b64decode(b64, validate=True)
        if len(raw) < NONCE_BYTES + TAG_BYTES:
            raise ValueError("too short")
        plain = _decrypt(
            key, raw[:NONCE_BYTES], raw[NONCE_BYTES:], _aad(table, column, row, key_id)
        )
        return plain.decode()
    except (InvalidTag, ValueError) as exc:
        raise VaultError(f"vault ciphertext does not open under key {key_id!r}") from exc


def key_id_of(token: str) -> str:
    return token.partition(SEPARATOR)[0] if token else ""


def _field(instance: models.Model, name: str) -> SealedTextField:
    field = instance._meta.get_field(name)
    if not isinstance(field, SealedTextField):
        raise TypeError(f"{instance._meta.label}.{name} is not a sealed field")
    return field


def _where(instance: models.Model, field: SealedTextField) -> dict[str, str]:
    row = getattr(instance, field.row_field)
    if not row:
        raise VaultError(f"{instance._meta.label} has no {field.row_field} to bind to")
    return {"table": instance._meta.db_table, "column": field.column, "row": str(row)}


def seal(instance: models.Model, name: str, value: str) -> None:
    """Set sealed field ``name`` of ``instance`` to the ciphertext of ``value`` (not saved)."""
    seal_fields(instance, {name: value})


def seal_fields(instance: models.Model, values: dict[str, str]) -> None:
    """``seal`` for several fields of one instance, the keys looked up once (placing seals an
    order's three address fields)."""
    key = keyring().current
    for name, value in values.items():
        field = _field(instance, name)
        setattr(instance, field.attname, seal_value(value, key=key, **_where(instance, field)))


def unseal(instance: models.Model, name: str) -> str:
    """The clear value of sealed field ``name`` of ``instance``."""
    field = _field(instance, name)
    return open_value(getattr(instance, field.attname), **_where(instance, field))


def reseal(instance: models.Model, name: str) -> bool:
    """Re-encrypt field ``name`` under the current key if it is under another; True if changed."""
    field = _field(instance, name)
    token = getattr(instance, field.attname)
    if not token or key_id_of(token) == keyring().current.id:
        return False
    seal(instance, name, unseal(instance, name))
    return True


# --- blind index ---------------------------------------------------------------------------


def blind_index_key() -> bytes:
    value = settings.XINYUE_BLIND_INDEX_KEY or config.secret_from_file(
        "blind_index_key", "XINYUE_BLIND_INDEX_KEY"
    )
    return value.encode()


def blind_index(purpose: str, value: str) -> str:
    """Keyed HMAC-SHA256 of a normalised value (hex, 64 characters). ``purpose`` separates the
    index spaces (``id_number``, ``ip`` …) so one value never gives the same digest twice."""
    message = f"{purpose}|{value}".encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()
