"""Key-encryption keys behind a small provider interface.

The default provider keeps a keyring in a file (`CONTACTPOINT_KEK_FILE`, or the JSON itself
in `CONTACTPOINT_KEK`). A KMS or Vault provider implements the same five methods
(`wrap_many` is `wrap` of many keys at once, which a KMS may send in one request or one at
a time); wrapping then happens inside the KMS and the key-encryption key never reaches
this process.
"""

from __future__ import annotations

import base64
import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from contactpoint import config
from contactpoint.lib import crypto

KEYRING_FORMAT = "contactpoint-keyring/1"


class KeyProvider(Protocol):
    def active_key_id(self) -> str: ...

    def wrap(self, key_id: str, data_key: bytes, context: bytes) -> bytes: ...

    def wrap_many(self, key_id: str, keys: Sequence[tuple[bytes, bytes]]) -> list[bytes]: ...

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes: ...

    def key_ids(self) -> list[str]: ...


class UnknownKey(LookupError):
    """A data key is wrapped under a key-encryption key this provider does not hold."""


@dataclass
class Keyring:
    active: str
    keys: dict[str, bytes]
    demo: bool = False

    @classmethod
    def parse(cls, text: str, origin: str) -> Keyring:
        try:
            doc = json.loads(text)
            if doc.get("format") != KEYRING_FORMAT:
                raise ValueError("unknown format")
            keys = {k: base64.b64decode(v, validate=True) for k, v in doc["keys"].items()}
            ring = cls(active=doc["active"], keys=keys, demo=bool(doc.get("demo", False)))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise config.ConfigurationError(f"{origin} is not a valid keyring") from exc
        if ring.active not in ring.keys or any(len(k) != 32 for k in keys.values()):
            raise config.ConfigurationError(f"{origin}: active key missing or not 256 bits")
        if ring.demo and not config.is_development():
            raise config.ConfigurationError(
                f"{origin} is a demo keyring made by `contactpoint init`; refused outside "
                "development"
            )
        return ring

    def dumps(self) -> str:
        keys = {k: base64.b64encode(v).decode() for k, v in self.keys.items()}
        doc = {"format": KEYRING_FORMAT, "demo": self.demo, "active": self.active, "keys": keys}
        return json.dumps(doc, indent=2) + "\n"


def new_key_id() -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"kek-{stamp}-{secrets.token_hex(3)}"


def write_private(path: Path, text: str) -> None:
    """Write a secret file atomically, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class FileKeyProvider:
    """A keyring in a JSON file, reloaded when the file changes.

    Reloading is what lets `contactpoint keys rotate` run beside a serving process: the
    server sees the new active key on its next wrap, and can still unwrap under old keys
    until they are retired.
    """

    def __init__(self, path: Path | None, text: str | None = None) -> None:
        self.path = path
        self._stamp: tuple[int, int] | None = None
        self._built: dict[str, crypto.SealingKey] = {}  # by key id, for `_built_for`
        self._built_for: Keyring | None = None
        if text is not None:
            self._ring = Keyring.parse(text, "CONTACTPOINT_KEK")
        else:
            self._ring = self._load()

    def _load(self) -> Keyring:
        assert self.path is not None
        try:
            stat = self.path.stat()
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise config.ConfigurationError(
                f"key-encryption key file {self.path} does not exist; run `contactpoint init` "
                "for a demo or set CONTACTPOINT_KEK_FILE"
            ) from exc
        self._stamp = (stat.st_mtime_ns, stat.st_ino)
        return Keyring.parse(text, str(self.path))

    def _ring_now(self) -> Keyring:
        if self.path is not None:
            stat = self.path.stat()
            if (stat.st_mtime_ns, stat.st_ino) != self._stamp:
                self._ring = self._load()
        return self._ring

    def active_key_id(self) -> str:
        return self._ring_now().active

    def key_ids(self) -> list[str]:
        return sorted(self._ring_now().keys)

    def _key(self, key_id: str) -> bytes:
        ring = self._ring_now()
        if key_id not in ring.keys:
            raise UnknownKey(f"key-encryption key {key_id} is not in the keyring")
        return ring.keys[key_id]

    def _sealing_key(self, key_id: str) -> crypto.SealingKey:
        """The key's AES-GCM object, built once: a bulk load wraps a data key per child."""
        key = self._key(key_id)
        if self._built_for is not self._ring:  # reloaded: keep nothing of a retired key
            self._built, self._built_for = {}, self._ring
        if (built := self._built.get(key_id)) is None:
            built = self._built[key_id] = crypto.SealingKey(key)
        return built

    def wrap(self, key_id: str, data_key: bytes, context: bytes) -> bytes:
        return self._sealing_key(key_id).seal(data_key, context)

    def wrap_many(self, key_id: str, keys: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
        """`wrap` of each (data key, context): the keyring checked once for them all."""
        return self._sealing_key(key_id).seal_many(keys)

    def unwrap(self, key_id: str, wrapped: bytes, context: bytes) -> bytes:
        return self._sealing_key(key_id).open(wrapped, context)

    def add_active_key(self) -> str:
        """Generate a new key-encryption key, make it active, keep the old ones."""
        ring = self._writable_ring()
        key_id = new_key_id()
        ring.keys[key_id] = crypto.new_key()
        ring.active = key_id
        self._save(ring)
        return key_id

    def retire(self, key_id: str) -> None:
        """Remove a key that no data key is wrapped under any more (the caller checks)."""
        ring = self._writable_ring()
        if key_id == ring.active:
            raise ValueError("the active key cannot be retired; rotate first")
        ring.keys.pop(key_id)
        self._save(ring)

    def _writable_ring(self) -> Keyring:
        if self.path is None:
            raise config.ConfigurationError(
                "the keyring came from CONTACTPOINT_KEK; rotation needs CONTACTPOINT_KEK_FILE"
            )
        ring = self._load()
        return Keyring(ring.active, dict(ring.keys), ring.demo)

    def _save(self, ring: Keyring) -> None:
        assert self.path is not None
        write_private(self.path, ring.dumps())
        self._ring = self._load()


def kek_path() -> Path:
    return config.path_setting(
        "CONTACTPOINT_KEK_FILE", config.layout_dir(config.KEYS_DIR) / "demo-kek.json"
    )


def create_demo_keyring(path: Path) -> str:
    """Write a throw-away demo keyring (refused outside development by Keyring.parse)."""
    key_id = new_key_id()
    ring = Keyring(active=key_id, keys={key_id: crypto.new_key()}, demo=True)
    write_private(path, ring.dumps())
    return key_id


_provider: KeyProvider | None = None


def get_provider() -> KeyProvider:
    """Return the process's key provider, built from the environment on first use."""
    global _provider
    if _provider is None:
        inline = os.environ.get("CONTACTPOINT_KEK")
        if inline is not None and os.environ.get("CONTACTPOINT_KEK_FILE"):
            raise config.ConfigurationError(
                "set CONTACTPOINT_KEK or CONTACTPOINT_KEK_FILE, not both"
            )
        _provider = FileKeyProvider(None, inline) if inline else FileKeyProvider(kek_path())
    return _provider


def reset_provider() -> None:
    """Forget the cached provider (tests and `init` change the environment)."""
    global _provider
    _provider = None
