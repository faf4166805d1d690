"""Secrets at rest: provider keys, webhook secrets and OAuth tokens, encrypted with MultiFernet.

Keys come from ``FLEETLIGHT_ENCRYPTION_KEYS`` (comma-separated Fernet keys; the first encrypts,
all decrypt). Without it, a key is generated into ``<instance>/encryption_keys`` (development).

Each secret (a ``secrets`` row) holds a list of *versions*, newest first: consumers use the first
(:meth:`Vault.get`), verifiers accept any (:meth:`Vault.versions`). A provider key is rotated by
adding the new version (:meth:`Vault.add_version`), deploying, then retiring the old one.

Encryption-key rotation without downtime:
1. put the new key first in FLEETLIGHT_ENCRYPTION_KEYS, keep the old one after it, reload servers;
2. ``flask --app app rotate-keys`` re-encrypts every row with the new key, one row per transaction,
   so readers always find a ciphertext some configured key opens;
3. drop the old key from the setting and reload. (With the instance key file,
   ``rotate-keys --generate`` prepends a new key and ``--retire`` drops the old ones; running
   processes re-read the file when a ciphertext does not open with the keys they hold.)
"""
from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select

from core.settings import Settings
from data.db import Database
from data.models import SecretRecord, utcnow
from security import audit

KEY_FILE = "encryption_keys"


class VaultError(RuntimeError):
    """A secret could not be stored or opened; the message names the secret, never its value."""


def fingerprint(value: str) -> str:
    """Return a short, non-reversible label of a secret value (first 12 hex of SHA-256)."""
    return hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]


def parse_keys(text: str) -> list[bytes]:
    """Return the Fernet keys in a comma-separated string; raise VaultError naming a bad one."""
    keys = []
    for i, part in enumerate(p.strip() for p in text.split(",")):
        if not part:
            continue
        try:
            Fernet(part.encode())
        except (ValueError, TypeError) as exc:
            raise VaultError(f"FLEETLIGHT_ENCRYPTION_KEYS: key #{i + 1} is not a Fernet key ({exc})") from None
        keys.append(part.encode())
    if not keys:
        raise VaultError("FLEETLIGHT_ENCRYPTION_KEYS: no key given")
    return keys


def key_source(settings: Settings) -> Callable[[], list[bytes]]:
    """Return a loader of the current key list (from settings, else the instance key file)."""
    if settings.encryption_keys is not None:
        text = settings.encryption_keys.get_secret_value()
        return lambda: parse_keys(text)
    path = Path(settings.instance_dir) / KEY_FILE

    def load() -> list[bytes]:
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(Fernet.generate_key().decode())
            path.chmod(0o600)
        return parse_keys(path.read_text())

    return load


def key_file(settings: Settings) -> Path | None:
    """Return the instance key file when keys are not set in the environment, else None."""
    return None if settings.encryption_keys is not None else Path(settings.instance_dir) / KEY_FILE


@dataclass(frozen=True)
class SecretInfo:
    """What the admin page may show about a secret: never its value."""

    name: str
    versions: int
    fingerprints: tuple[str, ...]
    updated_at: object


class Vault:
    """Encrypts and decrypts secret rows with a MultiFernet that follows its key source."""

    def __init__(self, db: Database, load_keys: Callable[[], list[bytes]]) -> None:
        self.db = db
        self._load_keys = load_keys
        self._lock = threading.Lock()
        self._keys = load_keys()
        self._fernet = MultiFernet([Fernet(k) for k in self._keys])

    def _reload(self) -> bool:
        with self._lock:
            keys = self._load_keys()
            if keys == self._keys:
                return False
            self._keys = keys
            self._fernet = MultiFernet([Fernet(k) for k in keys])
            return True

    def _decrypt(self, name: str, token: bytes) -> list[str]:
        try:
            plain = self._fernet.decrypt(token)
        except InvalidToken:
            if not self._reload():
                raise VaultError(f"secret {name!r} cannot be decrypted with the configured keys") from None
            try:
                plain = self._fernet.decrypt(token)
            except InvalidToken:
                raise VaultError(f"secret {name!r} cannot be decrypted with the configured keys") from None
        data = json.loads(plain)
        return [str(v) for v in data.get("v", [])]

    def _encrypt(self, values: list[str]) -> bytes:
        return self._fernet.encrypt(json.dumps({"v": values}).encode("utf-8"))

    def versions(self, name: str) -> list[str]:
        """Return every stored version of ``name`` (newest first); [] when absent."""
        with self.db.session() as s:
            row = s.get(SecretRecord, name)
            token = None if row is None else row.ciphertext
        return [] if token is None else self._decrypt(name, token)

    def get(self, name: str) -> str | None:
        """Return the current (newest) version of ``name``, or None when absent."""
        versions = self.versions(name)
        return versions[0] if versions else None

    def _write(self, name: str, values: list[str], actor: str, kind: str, extra: dict) -> None:
        self._reload()  # never encrypt with a key another process has already retired
        with self.db.session() as s:
            row = s.get(SecretRecord, name)
            if not values:
                if row is not None:
                    s.delete(row)
            elif row is None:
                s.add(SecretRecord(name=name, ciphertext=self._encrypt(values), updated_at=utcnow()))
            else:
                row.ciphertext = self._encrypt(values)
                row.updated_at = utcnow()
            audit.record(self.db, actor, kind, "secret", name,
                         {"versions": len(values), "fingerprints": [fingerprint(v) for v in values], **extra}, session=s)

    def put(self, name: str, value: str, actor: str = "system") -> None:
        """Store ``value`` as the only version of ``name`` (replacing any others)."""
        _check_name(name)
        if not value:
            raise VaultError(f"secret {name!r}: empty value")
        self._write(name, [value], actor, "secret.set", {})

    def add_version(self, name: str, value: str, actor: str = "system", keep: int = 3) -> None:
        """Add ``value`` as the newest version of ``name``, keeping at most ``keep`` versions."""
        _check_name(name)
        if not value:
            raise VaultError(f"secret {name!r}: empty value")
        values = [value] + [v for v in self.versions(name) if v != value]
        self._write(name, values[:keep], actor, "secret.version_added", {"added": fingerprint(value)})

    def retire_version(self, name: str, value_fingerprint: str, actor: str = "system") -> bool:
        """Drop the version of ``name`` whose fingerprint is ``value_fingerprint``; True if found."""
        values = self.versions(name)
        kept = [v for v in values if fingerprint(v) != value_fingerprint]
        if len(kept) == len(values):
            return False
        self._write(name, kept, actor, "secret.version_retired", {"retired": value_fingerprint})
        return True

    def delete(self, name: str, actor: str = "system") -> None:
        """Remove ``name`` entirely."""
        self._write(name, [], actor, "secret.deleted", {})

    def list(self) -> list[SecretInfo]:
        """Return every secret's name, version count and fingerprints (values never leave)."""
        with self.db.session() as s:
            rows = [(r.name, r.ciphertext, r.updated_at) for r in s.execute(select(SecretRecord).order_by(SecretRecord.name)).scalars()]
        out = []
        for name, token, updated in rows:
            try:
                values = self._decrypt(name, token)
                out.append(SecretInfo(name, len(values), tuple(fingerprint(v) for v in values), updated))
            except VaultError:
                out.append(SecretInfo(name, 0, ("undecryptable",), updated))
        return out

    def rotate_all(self, actor: str = "system") -> int:
        """Re-encrypt every secret with the primary key, one row per transaction; return the count.

        Readers keep working throughout: each row holds either its old or its new ciphertext,
        and the keyring still opens both until the old key is removed from the configuration.
        """
        self._reload()
        with self.db.session() as s:
            names = list(s.execute(select(SecretRecord.name)).scalars())
        done = 0
        for name in names:
            with self.db.session() as s:
                row = s.get(SecretRecord, name)
                if row is None:
                    continue
                try:
                    row.ciphertext = self._fernet.rotate(row.ciphertext)
                except InvalidToken:
                    raise VaultError(f"secret {name!r} cannot be decrypted with the configured keys") from None
                done += 1
        audit.record(self.db, actor, "keys.rotated", "secret", "*",
                     {"secrets": done, "primary_key": fingerprint(self._keys[0].decode())})
        return done


def _check_name(name: str) -> None:
    if not name or len(name) > 100 or not all(c.isalnum() or c in ":._-/" for c in name):
        raise VaultError("secret name must be 1-100 characters of letters, digits, : . _ - /")


def get_vault() -> Vault:
    """Return the process's vault (built on first use from the installed services)."""
    from core.runtime import services

    svc = services()
    vault = svc.vault
    if vault is None or vault.db is not svc.db:
        vault = Vault(svc.db, key_source(svc.settings))
        svc.vault = vault
    return vault


def provider_key(name: str) -> str | None:
    """Return the current key for provider ``name``: the vault's ``provider:<name>`` or the setting.

    The setting looked up is ``<name>_api_key``, ``<name>_token`` or ``<name>_subscription_key``.
    """
    value = get_vault().get(f"provider:{name}")
    if value:
        return value
    from core.runtime import services

    settings = services().settings
    for attr in (f"{name}_api_key", f"{name}_token", f"{name}_subscription_key"):
        setting = getattr(settings, attr, None)
        if setting is not None:
            return setting.get_secret_value() if hasattr(setting, "get_secret_value") else str(setting)
    return None
