"""Signed checkpoints of the audit log, as C2SP signed notes.

A checkpoint states the log's size and root at a moment. Its body is a C2SP tlog-checkpoint
(c2sp.org/tlog-checkpoint): the origin (the log's name), the size in decimal, the root in
base64, then one extension line with the UTC time. The log signs it as a C2SP signed note
(c2sp.org/signed-note): the body, a blank line, then one line per signature,

    — <key name> <base64(4-byte key ID || Ed25519 signature of the body)>

so a witness in another organisation can countersign the same bytes by adding its own line.
The log's key name is the origin. Ed25519 comes from `cryptography`; nothing here is a
home-made primitive.

Every failure to read or verify a note raises `BadCheckpoint` saying what is wrong.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from contactpoint.audit.merkle import HASH_SIZE

# The signature type byte of Ed25519 in the signed-note key ID (signed-note, "Signature types").
ED25519_TYPE = b"\x01"
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
TIMESTAMP_PREFIX = "timestamp "
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
# The spec asks verifiers to bound a note and to accept at least 16 signatures.
MAX_SIGNATURES = 32
MAX_NOTE_BYTES = 64 * 1024
MAX_SIZE = 2**64
_DECIMAL = re.compile(r"0|[1-9][0-9]*")


class BadCheckpoint(Exception):
    """A note that is malformed, unsigned by the expected key, or whose signature fails."""


@dataclass(frozen=True)
class Checkpoint:
    """The log's size and root hash at a moment, as a log signs and a witness countersigns.

    Attributes:
        origin: the log's name, also its signing key's name, e.g. "contactpoint.example/audit".
        size: the number of leaves.
        root: the Merkle root of those leaves, 32 bytes.
        timestamp: when the log signed it, in UTC, to the second (as the body carries it).
    """

    origin: str
    size: int
    root: bytes
    timestamp: datetime

    def __post_init__(self) -> None:
        _check_key_name(self.origin)
        if isinstance(self.size, bool) or not 0 <= self.size < MAX_SIZE:
            raise ValueError(f"a checkpoint's size must be from 0 to 2**64 - 1, not {self.size}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise ValueError(f"a checkpoint's root is {HASH_SIZE} bytes")
        if self.timestamp.utcoffset() is None:
            raise ValueError("a checkpoint's timestamp must say its time zone")
        # Normalised here, so that a checkpoint equals the one read back from its body.
        object.__setattr__(self, "timestamp", self.timestamp.astimezone(UTC).replace(microsecond=0))

    def body(self) -> bytes:
        """Return the note text that is signed: origin, size, root, timestamp lines."""
        root = base64.b64encode(self.root).decode("ascii")
        stamp = self.timestamp.strftime(TIMESTAMP_FORMAT)
        return f"{self.origin}\n{self.size}\n{root}\n{TIMESTAMP_PREFIX}{stamp}\n".encode()


def key_id(name: str, public_key: Ed25519PublicKey) -> bytes:
    """Compute the signed-note key ID of an Ed25519 key.

    Args:
        name: the key's name.
        public_key: the key.

    Returns:
        SHA-256(name || 0x0A || 0x01 || 32-byte public key)[:4].
    """
    return hashlib.sha256(
        name.encode() + b"\n" + ED25519_TYPE + public_key.public_bytes_raw()
    ).digest()[:4]


def sign(checkpoint: Checkpoint, private_key: Ed25519PrivateKey) -> bytes:
    """Sign a checkpoint as its log, under the key name that is the checkpoint's origin.

    Args:
        checkpoint: the size, root and time to vouch for.
        private_key: the log's signing key.

    Returns:
        The signed note: body, blank line, one signature line.
    """
    return sign_note(checkpoint.body(), private_key, checkpoint.origin)


def cosign(note: bytes, private_key: Ed25519PrivateKey, name: str) -> bytes:
    """Add a signature line to a signed note, as a witness countersigning a checkpoint.

    It signs the note's text and checks no existing signature: a witness verifies the
    log's signature (`verify`) and consistency with what it saw before it cosigns.

    Args:
        note: a signed note.
        private_key: the cosigner's key.
        name: the cosigner's key name, e.g. "witness.example/contactpoint".

    Returns:
        The note with the new signature line after the others.

    Raises:
        BadCheckpoint: the note is malformed or already holds the most signatures allowed.
    """
    text, signatures = _split_note(note)
    if len(signatures) >= MAX_SIGNATURES:
        raise BadCheckpoint(f"the note already has {len(signatures)} signatures")
    return note + _signature_line(text.encode(), private_key, name)


def verify(note: bytes, public_key: Ed25519PublicKey, name: str | None = None) -> Checkpoint:
    """Check a signed checkpoint against one trusted key and read it.

    Signature lines from other keys (a witness's, a retired log key's) are ignored, as the
    signed-note spec requires; every line from this key must verify.

    Args:
        note: the signed note.
        public_key: the trusted key.
        name: the key's name; by default the checkpoint's origin, i.e. the log's own key.

    Returns:
        The checkpoint.

    Raises:
        BadCheckpoint: the note is malformed, has no signature by this key, a signature by
            this key does not verify, or the body is not a checkpoint in canonical form.
    """
    text, signatures = _split_note(note)
    key_name = text.partition("\n")[0] if name is None else name
    _check_signatures(text, signatures, public_key, key_name)
    return _parse_body(text)


def sign_note(text: bytes, private_key: Ed25519PrivateKey, name: str) -> bytes:
    """Sign any note text, as a C2SP signed note with one Ed25519 signature.

    Args:
        text: UTF-8 lines, ending in a newline.
        private_key: the signing key.
        name: the key's name.

    Returns:
        text, a blank line, and the signature line.

    Raises:
        ValueError: the text is not UTF-8 ending in a newline, or the name is not a key name.
    """
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError("a note's text must be UTF-8") from error
    if not decoded.endswith("\n") or _has_control_character(decoded):
        raise ValueError("a note's text ends in a newline and has no other control characters")
    return text + b"\n" + _signature_line(text, private_key, name)


def open_note(note: bytes, public_key: Ed25519PublicKey, name: str) -> bytes:
    """Check a signed note against one trusted key and return its text.

    Args:
        note: the signed note.
        public_key: the trusted key.
        name: the key's name.

    Returns:
        The note's text, with its final newline.

    Raises:
        BadCheckpoint: as for `verify`, except that the text may be anything.
    """
    text, signatures = _split_note(note)
    _check_signatures(text, signatures, public_key, name)
    return text.encode()


def vkey(name: str, public_key: Ed25519PublicKey) -> str:
    """The verifier key of a signed-note key, as transparency tools exchange it.

    Returns:
        "<name>+<key ID, hex>+<base64(0x01 || 32-byte public key)>".
    """
    raw = ED25519_TYPE + public_key.public_bytes_raw()
    return f"{name}+{key_id(name, public_key).hex()}+{base64.b64encode(raw).decode()}"


def parse_vkey(text: str) -> tuple[str, Ed25519PublicKey]:
    """Read a verifier key written by `vkey`: the key's name and its public key.

    Raises:
        ValueError: not a verifier key of an Ed25519 key, or its key ID does not fit.
    """
    name, _, rest = text.strip().partition("+")
    hex_id, _, encoded = rest.partition("+")
    try:
        raw = base64.b64decode(encoded, validate=True)
        _check_key_name(name)
        if len(raw) != 33 or raw[:1] != ED25519_TYPE:
            raise ValueError("not an Ed25519 key")
        key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except (ValueError, binascii.Error) as error:
        raise ValueError(f"not a verifier key (name+id+key): {error}") from error
    if key_id(name, key).hex() != hex_id:
        raise ValueError("the verifier key's ID does not match its name and key")
    return name, key


def _signature_line(text: bytes, private_key: Ed25519PrivateKey, name: str) -> bytes:
    _check_key_name(name)
    signature = key_id(name, private_key.public_key()) + private_key.sign(text)
    return f"{SIGNATURE_PREFIX}{name} {base64.b64encode(signature).decode('ascii')}\n".encode()


def _split_note(note: bytes) -> tuple[str, list[tuple[str, bytes, bytes]]]:
    """Split a note into its text and its (key name, key ID, signature) lines."""
    if len(note) > MAX_NOTE_BYTES:
        raise BadCheckpoint(f"the note is longer than {MAX_NOTE_BYTES} bytes")
    try:
        decoded = note.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BadCheckpoint("the note is not UTF-8") from error
    if _has_control_character(decoded):
        raise BadCheckpoint("the note holds a control character other than newline")
    # The spec separates the text from the signatures by the note's last blank line.
    separator = decoded.rfind("\n\n")
    if not decoded.endswith("\n") or separator < 0:
        raise BadCheckpoint("the note is not text, a blank line, then signature lines")
    lines = decoded[separator + 2 : -1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise BadCheckpoint(f"the note has more than {MAX_SIGNATURES} signatures")
    return decoded[: separator + 1], [_parse_signature_line(line) for line in lines]


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    fields = line.removeprefix(SIGNATURE_PREFIX).split(" ")
    if not line.startswith(SIGNATURE_PREFIX) or len(fields) != 2:
        raise BadCheckpoint(f"not a signature line: {line[:80]!r}")
    name, encoded = fields
    try:
        _check_key_name(name)
        blob = base64.b64decode(encoded, validate=True)
    except (ValueError, binascii.Error) as error:
        raise BadCheckpoint(f"malformed signature line: {line[:80]!r}") from error
    if len(blob) < 5:
        raise BadCheckpoint(f"a signature too short to hold a key ID: {line[:80]!r}")
    return name, blob[:4], blob[4:]


def _check_signatures(
    text: str,
    signatures: list[tuple[str, bytes, bytes]],
    public_key: Ed25519PublicKey,
    name: str,
) -> None:
    wanted = key_id(name, public_key)
    # A line from another key is someone else's business: the spec says to ignore it.
    ours = [sig for (sig_name, sig_id, sig) in signatures if (sig_name, sig_id) == (name, wanted)]
    if not ours:
        raise BadCheckpoint(f"no signature by {name} with key ID {wanted.hex()}")
    for signature in ours:
        try:
            public_key.verify(signature, text.encode())
        except InvalidSignature as error:
            raise BadCheckpoint(f"the signature by {name} does not verify") from error


def _parse_body(text: str) -> Checkpoint:
    lines = text[:-1].split("\n")
    if len(lines) != 4:
        raise BadCheckpoint(
            f"a checkpoint has 4 lines (origin, size, root, time), not {len(lines)}"
        )
    origin, size, root, stamp = lines
    if not _DECIMAL.fullmatch(size):
        raise BadCheckpoint(f"the size line is not a decimal number: {size[:40]!r}")
    if not stamp.startswith(TIMESTAMP_PREFIX):
        raise BadCheckpoint(f"the fourth line is not a timestamp: {stamp[:40]!r}")
    try:
        decoded_root = base64.b64decode(root, validate=True)
        moment = datetime.strptime(stamp.removeprefix(TIMESTAMP_PREFIX), TIMESTAMP_FORMAT)
        checkpoint = Checkpoint(origin, int(size), decoded_root, moment.replace(tzinfo=UTC))
    except (ValueError, binascii.Error) as error:
        raise BadCheckpoint(f"not a checkpoint: {error}") from error
    # One body per checkpoint: anything the parser let through in another spelling
    # (padding bits, a different time format) would be a second text for the same tree.
    if checkpoint.body() != text.encode():
        raise BadCheckpoint("the checkpoint is not in canonical form")
    return checkpoint


def _check_key_name(name: str) -> None:
    # Key names are non-empty with no Unicode space or '+' (signed-note); since the origin is
    # also the log's key name, the same rule keeps it to one line.
    if not name or "+" in name or any(c.isspace() for c in name) or _has_control_character(name):
        raise ValueError(f"not a key name (non-empty, no spaces or '+'): {name[:80]!r}")


def _has_control_character(text: str) -> bool:
    return any(c < " " and c != "\n" for c in text)
