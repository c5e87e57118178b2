"""The audit log's signing key and name: CONTACTPOINT_AUDIT_SIGNING_KEY(_FILE), or in
development the throw-away key `contactpoint init` writes.

The key is an Ed25519 private key in PEM (PKCS#8, unencrypted: protect the file or the
secret store instead). Its public half is what a witness and `contactpoint audit verify`
check checkpoints with; `contactpoint audit public-key` prints it.
"""

from __future__ import annotations

import functools
import os
import re
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from contactpoint import config
from contactpoint.keystore.provider import write_private

SIGNING_KEY = "CONTACTPOINT_AUDIT_SIGNING_KEY"
DEFAULT_LOG_NAME = "contactpoint.example/audit"
_KEY_NAME = re.compile(r"[!-*,-~]+")  # a signed-note key name: printable, no space or +


def demo_signing_key_path() -> Path:
    return config.layout_dir(config.KEYS_DIR) / "demo-audit-signing-key.pem"


def create_demo_signing_key(path: Path) -> None:
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    write_private(path, pem.decode())


def log_name() -> str:
    """CONTACTPOINT_AUDIT_LOG_NAME: the log's name in its checkpoints (its origin)."""
    name = os.environ.get("CONTACTPOINT_AUDIT_LOG_NAME", DEFAULT_LOG_NAME)
    if not _KEY_NAME.fullmatch(name):
        raise config.ConfigurationError(
            "CONTACTPOINT_AUDIT_LOG_NAME must be printable with no space or '+'"
        )
    return name


@functools.cache
def signing_key() -> Ed25519PrivateKey:
    """The log's signing key, read once per process."""
    text = config.secret(SIGNING_KEY)
    origin = SIGNING_KEY + ("_FILE" if f"{SIGNING_KEY}_FILE" in os.environ else "")
    if text is None:
        path = demo_signing_key_path()
        if not config.is_development() or not path.exists():
            raise config.ConfigurationError(
                f"{SIGNING_KEY}(_FILE) is not set"
                + ("; run `contactpoint init` for a demo key" if config.is_development() else "")
            )
        text, origin = path.read_text(encoding="utf-8"), str(path)
    return _parse(text, origin)


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_pem(text: str, origin: str) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(text.encode())
    except ValueError as exc:
        raise config.ConfigurationError(f"{origin} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise config.ConfigurationError(f"{origin} is not an Ed25519 public key")
    return key


def _parse(text: str, origin: str) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(text.strip().encode(), password=None)
    except (ValueError, TypeError) as exc:
        raise config.ConfigurationError(f"{origin} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise config.ConfigurationError(f"{origin} is not an Ed25519 private key")
    return key
