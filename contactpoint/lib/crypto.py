"""Small wrappers over `cryptography`: AEAD sealing, key derivation and keyed digests.

Nothing here is a home-made primitive: AES-256-GCM, HKDF-SHA256 and HMAC-SHA256 come from
`cryptography`. These functions fix the choices (nonce size, versioning, encodings) in
one place so every caller makes the same ones.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as _hmac
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
NONCE_BYTES = 12
FORMAT_V1 = b"\x01"


class DecryptionError(Exception):
    """A ciphertext did not open: wrong key, wrong associated data or tampering."""


def new_key() -> bytes:
    """Return a fresh random 256-bit key."""
    return os.urandom(KEY_BYTES)


def new_keys(count: int) -> list[bytes]:
    """Return `count` fresh random 256-bit keys, read from the system at once."""
    raw = os.urandom(KEY_BYTES * count)
    return [raw[i : i + KEY_BYTES] for i in range(0, len(raw), KEY_BYTES)]


class SealingKey:
    """One key with its AES-256-GCM object built once.

    Building the object costs about twice what sealing a short value does, so code that
    seals or opens many values under one key (a child's facts, a bulk load) keeps one.
    """

    __slots__ = ("_aead",)

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, associated_data: bytes) -> bytes:
        """As `seal`, under this key."""
        nonce = os.urandom(NONCE_BYTES)
        return FORMAT_V1 + nonce + self._aead.encrypt(nonce, plaintext, associated_data)

    def seal_many(self, values: Sequence[tuple[bytes, bytes]]) -> list[bytes]:
        """`seal` of each (plaintext, associated data), the nonces read at once."""
        nonces = os.urandom(NONCE_BYTES * len(values))
        encrypt = self._aead.encrypt
        made = []
        for at, (plaintext, associated_data) in zip(
            range(0, len(nonces), NONCE_BYTES), values, strict=True
        ):
            nonce = nonces[at : at + NONCE_BYTES]
            made.append(FORMAT_V1 + nonce + encrypt(nonce, plaintext, associated_data))
        return made

    def open(self, sealed: bytes, associated_data: bytes) -> bytes:
        """As `open_sealed`, under this key."""
        if sealed[:1] != FORMAT_V1 or len(sealed) < 1 + NONCE_BYTES + 16:
            raise DecryptionError("unknown ciphertext format")
        nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, body, associated_data)
        except InvalidTag as exc:
            raise DecryptionError("ciphertext failed authentication") from exc


def seal(key: bytes, plaintext: bytes, associated_data: bytes) -> bytes:
    """Encrypt and authenticate with AES-256-GCM under a random 96-bit nonce.

    Args:
        key: 32 bytes.
        plaintext: the value to protect.
        associated_data: context the ciphertext is bound to (table, column, row); the same
            bytes must be given to open it, so a ciphertext copied elsewhere fails.

    Returns:
        A version byte, the nonce, then the ciphertext with its 16-byte tag.
    """
    return SealingKey(key).seal(plaintext, associated_data)


def open_sealed(key: bytes, sealed: bytes, associated_data: bytes) -> bytes:
    """Decrypt what `seal` produced, or raise DecryptionError.

    Args:
        key: the key it was sealed under.
        sealed: the output of `seal`.
        associated_data: exactly the associated data given to `seal`.

    Returns:
        The plaintext.
    """
    return SealingKey(key).open(sealed, associated_data)


def derive_key(root: bytes, purpose: str) -> bytes:
    """Derive an independent 256-bit key for one purpose from a root key (HKDF-SHA256).

    Args:
        root: the root secret, at least 32 bytes.
        purpose: a fixed label such as 'blind-index/nhs_number/v1'; different labels give
            unrelated keys.

    Returns:
        32 bytes.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode())
    return hkdf.derive(root)


def keyed_digest(key: bytes, message: bytes) -> bytes:
    """Return the full HMAC-SHA256 of message (32 bytes)."""
    return hmac.new(key, message, hashlib.sha256).digest()


def truncated_mac(key: bytes, message: bytes, bits: int) -> int:
    """Return the first `bits` bits of HMAC-SHA256(key, message) as a non-negative int.

    Args:
        key: the index's own key.
        message: the normalised value.
        bits: 1 to 63, so the result fits a signed 64-bit database column.

    Returns:
        An int below 2**bits.
    """
    return _truncated(keyed_digest(key, message), bits)


def _truncated(digest: bytes, bits: int) -> int:
    if not 1 <= bits <= 63:
        raise ValueError("bits must be between 1 and 63")
    return int.from_bytes(digest[:8], "big") >> (64 - bits)


class DigestKey:
    """One HMAC-SHA256 key set up once, for digesting many messages under it.

    Setting the key up (hashing its inner and outer pads) costs about as much as digesting
    a short message; a copy of the set-up state skips it, so code that digests many values
    under one key (a bulk load's blind indexes) keeps one. The same digests as
    `keyed_digest` and `truncated_mac`.
    """

    __slots__ = ("_prepared",)

    def __init__(self, key: bytes) -> None:
        self._prepared = _hmac.HMAC(key, hashes.SHA256())

    def digest(self, message: bytes) -> bytes:
        """As `keyed_digest`, under this key."""
        mac = self._prepared.copy()
        mac.update(message)
        return mac.finalize()

    def truncated(self, message: bytes, bits: int) -> int:
        """As `truncated_mac`, under this key."""
        return _truncated(self.digest(message), bits)
