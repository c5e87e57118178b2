"""An independent witness of the audit log: it countersigns checkpoints that extend the last.

Another organisation runs this with its own key: as a service the log pushes to
(`contactpoint witness serve`, contactpoint.audit.witness_service), or by hand on a bundle
(`contactpoint audit witness`). It keeps the last checkpoint it countersigned, and
countersigns a new one only if the log proves that the new tree extends that one. A log
that shows it two histories that do not fit, a split view, gets no countersignature: the
witness writes the evidence down and raises `SplitView`. The service, which anyone may
post to, says `Stale` instead of an alarm for an older checkpoint than the last, or a
bundle with no proof from its size: a replayed or raced push proves nothing.

The bundle the log exports is UTF-8 JSON:

    {"format": "contactpoint-audit-bundle/v1",
     "checkpoint": "<the log's signed note, as text>",
     "proofs": {"<old size>": ["<base64 hash>", ...], ...}}

with a consistency proof (`merkle.consistency_proof`) from each tree size the witness asked
about, its last size, to the checkpoint's size. No proof is needed on first use, when the
witness trusts what it is shown; at the witness's last size, where the root must be the
same; or at a smaller size, which is always an alarm, since the log only grows. A bundle of
1 MiB or more is refused.

The state directory (created with mode 0700) holds:

    checkpoint.note      the last checkpoint countersigned, with the log's and our signature
    lock                 flock'd while a run reads and writes the state
    alarms/<UTC>.json    one per split view, never overwritten: {"format":
                         "contactpoint-witness-alarm/v1", "detected_at", "reason",
                         "last_cosigned" (note text), "received" (note text), "bundle" (the
                         bundle as received)}; a second alarm in the same second gets "-2"

A state file that does not verify under both keys is refused (`StateError`), never
trusted or replaced: deleting it makes the next checkpoint a first use again. A note that
already carries this witness's valid signature is stored and returned unchanged.

Every file is written to a temporary file in the same directory, synced, renamed over the
old one and the directory synced, so a crash leaves the old file or the new, never half.

Time: a checkpoint stamped more than 10 minutes after `now` is refused (`BadBundle`); an
old one is accepted, because the witness vouches for consistency, not freshness, and a
rollback shows as a smaller size whatever its time. The cosignature says nothing of when.

Keys are PEM files, as `openssl genpkey -algorithm ed25519 -out witness.pem` and
`openssl pkey -in witness.pem -pubout` write them: PKCS#8 private keys, unencrypted, that
group and others cannot read (as ssh demands), and SubjectPublicKeyInfo public keys.
"""

from __future__ import annotations

import base64
import binascii
import fcntl
import json
import os
import secrets
import stat
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from contactpoint.audit.checkpoint import BadCheckpoint, Checkpoint, cosign, verify
from contactpoint.audit.merkle import verify_consistency

BUNDLE_FORMAT = "contactpoint-audit-bundle/v1"
ALARM_FORMAT = "contactpoint-witness-alarm/v1"
STATE_FILE = "checkpoint.note"
LOCK_FILE = "lock"
ALARMS_DIR = "alarms"
MAX_BUNDLE_BYTES = 1024 * 1024
MAX_KEY_FILE_BYTES = 16 * 1024
# Clocks drift; ten minutes is far more than drift and far less than a useful lie.
MAX_CLOCK_SKEW = timedelta(minutes=10)


class SplitView(Exception):
    """The log showed this witness two histories that do not fit: the alarm.

    Attributes:
        reason: what did not fit.
        evidence: the alarm file written before raising.
    """

    def __init__(self, reason: str, evidence: Path) -> None:
        super().__init__(f"split view: {reason} (evidence in {evidence})")
        self.reason = reason
        self.evidence = evidence


class Stale(Exception):
    """A checkpoint older than the last one countersigned, or a bundle without a proof from
    it, given to a witness serving pushes (`replay_is_alarm=False`): a late or raced push,
    or anyone replaying an old note, which proves no split view. The log asks again.

    Attributes:
        last: the last checkpoint countersigned, as stored.
    """

    def __init__(self, reason: str, last: bytes) -> None:
        super().__init__(reason)
        self.last = last


class BadBundle(Exception):
    """A bundle that is malformed, not signed by the log, from another log or lacks a proof."""


class StateError(Exception):
    """The witness's own state is unreadable, not ours, or in use by another run."""


class BadKeyFile(Exception):
    """A key file that is missing, unreadable, too open, or not an Ed25519 PEM key."""


@dataclass(frozen=True)
class WitnessKeys:
    """The log this witness follows, and the witness's own signing key.

    Attributes:
        log_name: the log's origin, also its key name, e.g. "contactpoint.example/audit".
        log_key: the log's public key.
        witness_name: the witness's key name, e.g. "witness.example/contactpoint".
        witness_key: the witness's private key.
    """

    log_name: str
    log_key: Ed25519PublicKey
    witness_name: str
    witness_key: Ed25519PrivateKey = field(repr=False)


@dataclass(frozen=True)
class _Seen:
    note: bytes
    checkpoint: Checkpoint


def witness(
    state_dir: Path,
    keys: WitnessKeys,
    bundle: bytes,
    now: datetime,
    replay_is_alarm: bool = True,
) -> bytes:
    """Countersign the bundle's checkpoint if it extends the last one this witness signed.

    Args:
        state_dir: this witness's state for this log; created with mode 0700 if missing.
        keys: the log's name and public key, the witness's name and private key.
        bundle: the log's export, as the module docstring describes.
        now: the current time, with a time zone.
        replay_is_alarm: whether a smaller tree than the last is a split view (a bundle an
            operator hands over); a service anyone can post to says `Stale` instead.

    Returns:
        The checkpoint note with the witness's signature line added, as also stored.

    Raises:
        BadBundle: the bundle is malformed, not signed by the log, from another log, from
            more than 10 minutes in the future, or lacks the proof from the last size.
        SplitView: the checkpoint does not extend the last one; the alarm file is written.
        StateError: the stored state is corrupt or another run holds the lock.
        Stale: (replay_is_alarm False) an older checkpoint, or no proof from the last size.
        OSError: the state or the alarm could not be written.
    """
    if now.utcoffset() is None:
        raise ValueError("now must say its time zone")
    received, proofs = _read_bundle(bundle, keys, now)
    _make_private_dir(state_dir)
    with _locked(state_dir):
        last = _load_state(state_dir, keys)
        if last is not None:
            if not replay_is_alarm:
                _check_not_stale(last, received, proofs)
            _check_extends(state_dir, last, received, proofs, bundle, now)
        cosigned = _countersign(received.note, keys)
        _write_atomically(state_dir / STATE_FILE, cosigned)
    return cosigned


def load_public_key(path: Path) -> Ed25519PublicKey:
    """Read an Ed25519 public key from a PEM (SubjectPublicKeyInfo) file."""
    data = _read_key_file(path, private=False)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm) as error:
        raise BadKeyFile(f"{path} is not a PEM public key: {error}") from error
    if not isinstance(key, Ed25519PublicKey):
        raise BadKeyFile(f"{path} holds a {type(key).__name__}, not an Ed25519 public key")
    return key


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """Read an unencrypted Ed25519 private key from a PEM file only its owner can read."""
    data = _read_key_file(path, private=True)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError, UnsupportedAlgorithm) as error:
        # TypeError is what cryptography raises for an encrypted key given no password.
        raise BadKeyFile(f"{path} is not an unencrypted PEM private key: {error}") from error
    if not isinstance(key, Ed25519PrivateKey):
        raise BadKeyFile(f"{path} holds a {type(key).__name__}, not an Ed25519 private key")
    return key


def _read_key_file(path: Path, private: bool) -> bytes:
    try:
        with path.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            data = handle.read(MAX_KEY_FILE_BYTES + 1)
    except OSError as error:
        raise BadKeyFile(f"cannot read key file {path}: {error.strerror}") from error
    if not stat.S_ISREG(mode):
        raise BadKeyFile(f"key file {path} is not a regular file")
    if private and mode & 0o077:
        raise BadKeyFile(
            f"permissions {stat.S_IMODE(mode):04o} for {path} are too open: a private key "
            f"must not be readable by group or others (chmod 600 {path})"
        )
    if len(data) > MAX_KEY_FILE_BYTES:
        raise BadKeyFile(f"key file {path} is larger than {MAX_KEY_FILE_BYTES} bytes")
    return data


def _read_bundle(
    bundle: bytes, keys: WitnessKeys, now: datetime
) -> tuple[_Seen, Mapping[str, object]]:
    """Parse the bundle and check its checkpoint's signature, origin and time."""
    note, proofs = _parse_bundle(bundle)
    origin = note.partition(b"\n")[0].decode("utf-8", "replace")
    if origin != keys.log_name:
        raise BadBundle(f"the checkpoint is from log {origin[:80]!r}, not {keys.log_name!r}")
    try:
        checkpoint = verify(note, keys.log_key, keys.log_name)
    except BadCheckpoint as error:
        raise BadBundle(f"the checkpoint is not signed by the log: {error}") from error
    if checkpoint.timestamp > now + MAX_CLOCK_SKEW:
        raise BadBundle(
            f"the checkpoint is stamped {checkpoint.timestamp.isoformat()}, more than "
            f"{MAX_CLOCK_SKEW} after now ({now.astimezone(UTC).isoformat()})"
        )
    return _Seen(note, checkpoint), proofs


def _parse_bundle(bundle: bytes) -> tuple[bytes, Mapping[str, object]]:
    """Return the bundle's note and its proofs, unchecked, refusing anything malformed."""
    if len(bundle) >= MAX_BUNDLE_BYTES:
        raise BadBundle(f"the bundle is {MAX_BUNDLE_BYTES} bytes or more")
    try:
        document = json.loads(bundle.decode("utf-8"))
    except (ValueError, RecursionError) as error:  # JSON and UTF-8 errors are ValueErrors
        raise BadBundle(f"the bundle is not UTF-8 JSON: {error}") from error
    if not isinstance(document, dict) or document.get("format") != BUNDLE_FORMAT:
        raise BadBundle(f"the bundle is not a JSON object of format {BUNDLE_FORMAT}")
    note, proofs = document.get("checkpoint"), document.get("proofs")
    if not isinstance(note, str) or not isinstance(proofs, dict):
        raise BadBundle("the bundle needs a checkpoint (text) and proofs (an object)")
    return note.encode("utf-8"), proofs


def _proof(proofs: Mapping[str, object], old_size: int) -> list[bytes]:
    """Return the proof from old_size, decoded; its hashes are checked by verification."""
    encoded = proofs.get(str(old_size))
    if encoded is None:
        raise BadBundle(f"the bundle has no consistency proof from size {old_size}")
    if not isinstance(encoded, list) or not all(isinstance(h, str) for h in encoded):
        raise BadBundle(f"the proof from size {old_size} is not a list of base64 hashes")
    try:
        return [base64.b64decode(h, validate=True) for h in encoded]
    except binascii.Error as error:
        raise BadBundle(f"the proof from size {old_size} is not base64: {error}") from error


def _check_not_stale(last: _Seen, received: _Seen, proofs: Mapping[str, object]) -> None:
    old, new = last.checkpoint, received.checkpoint
    if new.size < old.size:
        raise Stale(f"this witness holds size {old.size}, more than {new.size}", last.note)
    if new.size > old.size and str(old.size) not in proofs:
        raise Stale(f"no consistency proof from size {old.size}, the size held", last.note)


def _check_extends(
    state_dir: Path,
    last: _Seen,
    received: _Seen,
    proofs: Mapping[str, object],
    bundle: bytes,
    now: datetime,
) -> None:
    """Raise SplitView, after writing the evidence, unless received extends last."""
    old, new = last.checkpoint, received.checkpoint
    if new.size < old.size:
        reason = f"the log showed size {new.size} after size {old.size}"
    elif new.size == old.size:
        same = new.root == old.root
        reason = "" if same else f"the log showed two roots for size {new.size}"
    elif verify_consistency(old.size, new.size, old.root, new.root, _proof(proofs, old.size)):
        reason = ""
    else:
        reason = f"the consistency proof from size {old.size} to {new.size} fails"
    if reason:
        evidence = _write_alarm(state_dir, now, reason, last, received, bundle)
        raise SplitView(reason, evidence)


def _countersign(note: bytes, keys: WitnessKeys) -> bytes:
    """Add the witness's signature line, unless the note already carries a valid one."""
    public = keys.witness_key.public_key()
    try:
        verify(note, public, keys.witness_name)
        # A log that sends back a note we signed would otherwise grow it by a line each time.
        return note
    except BadCheckpoint:
        pass
    try:
        cosigned = cosign(note, keys.witness_key, keys.witness_name)
        # A bad line in our name would make the stored state fail to load next time.
        verify(cosigned, public, keys.witness_name)
    except BadCheckpoint as error:
        raise BadBundle(f"cannot countersign the checkpoint: {error}") from error
    return cosigned


def _write_alarm(
    state_dir: Path, now: datetime, reason: str, last: _Seen, received: _Seen, bundle: bytes
) -> Path:
    """Write the evidence of a split view to a new file in the alarms directory."""
    alarms = state_dir / ALARMS_DIR
    _make_private_dir(alarms)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    path, n = alarms / f"{stamp}.json", 1
    # The state lock is held, so no other run can take the name between check and write.
    while path.exists():
        n += 1
        path = alarms / f"{stamp}-{n}.json"
    evidence = {
        "format": ALARM_FORMAT,
        "detected_at": now.astimezone(UTC).isoformat(),
        "reason": reason,
        "last_cosigned": last.note.decode("utf-8"),
        "received": received.note.decode("utf-8"),
        "bundle": bundle.decode("utf-8"),
    }
    _write_atomically(path, (json.dumps(evidence, indent=2) + "\n").encode("utf-8"))
    return path


def _load_state(state_dir: Path, keys: WitnessKeys) -> _Seen | None:
    """Return the last checkpoint this witness countersigned, or None on first use."""
    path = state_dir / STATE_FILE
    try:
        note = path.read_bytes()
    except FileNotFoundError:
        return None
    # The witness's memory is what a split view is judged against: it must be its own.
    try:
        checkpoint = verify(note, keys.log_key, keys.log_name)
        verify(note, keys.witness_key.public_key(), keys.witness_name)
    except BadCheckpoint as error:
        raise StateError(
            f"{path} is not a checkpoint of {keys.log_name} cosigned by {keys.witness_name}: "
            f"{error}"
        ) from error
    if checkpoint.origin != keys.log_name:
        raise StateError(f"{path} holds a checkpoint of {checkpoint.origin}, not {keys.log_name}")
    return _Seen(note, checkpoint)


@contextmanager
def _locked(state_dir: Path) -> Iterator[None]:
    """Hold the state directory's lock, failing at once if another run holds it."""
    fd = os.open(state_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise StateError(f"another witness run holds the lock on {state_dir}") from error
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _make_private_dir(path: Path) -> None:
    """Create a directory readable by its owner only, if it does not exist."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        return  # an existing directory keeps the mode its owner gave it
    os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask


def _write_atomically(path: Path, data: bytes) -> None:
    """Write data to path so that a crash leaves the old file or the new, never half of one."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(path: Path) -> None:
    """Sync a directory, so that a rename in it survives a crash."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
