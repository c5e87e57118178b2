"""The witness: countersigning a growing log, raising the alarm on a split view, refusals."""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contactpoint.audit.checkpoint import Checkpoint, cosign, sign, verify
from contactpoint.audit.merkle import EMPTY_ROOT, consistency_proof, leaf_hash, root
from contactpoint.audit.witness import (
    BUNDLE_FORMAT,
    STATE_FILE,
    BadBundle,
    BadKeyFile,
    SplitView,
    Stale,
    StateError,
    WitnessKeys,
    load_private_key,
    load_public_key,
    witness,
)

ORIGIN = "contactpoint.example/audit"
WITNESS = "witness.example/w1"
WHEN = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
NOW = WHEN + timedelta(minutes=1)


@pytest.fixture
def keys(log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey) -> WitnessKeys:
    return WitnessKeys(ORIGIN, log_key.public_key(), WITNESS, witness_key)


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "witness"


def history(size: int, tag: bytes = b"event") -> list[bytes]:
    return [leaf_hash(b"%s %d" % (tag, i)) for i in range(size)]


def note_of(
    log_key: Ed25519PrivateKey, leaves: Sequence[bytes], when: datetime = WHEN, origin: str = ORIGIN
) -> bytes:
    return sign(Checkpoint(origin, len(leaves), root(leaves), when), log_key)


def bundle_of(note: bytes, proofs: dict[str, object] | None = None) -> bytes:
    document = {"format": BUNDLE_FORMAT, "checkpoint": note.decode(), "proofs": proofs or {}}
    return json.dumps(document).encode()


def export(log_key: Ed25519PrivateKey, leaves: Sequence[bytes], old_size: int) -> bytes:
    """Export a bundle as the log does, with the proof from the size the witness asked for."""
    proof = [base64.b64encode(h).decode() for h in consistency_proof(leaves, old_size)]
    return bundle_of(note_of(log_key, leaves), {str(old_size): proof})


def seen(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, leaves: Sequence[bytes]
) -> bytes:
    """Have the witness countersign this tree on first use, and return its state."""
    witness(state, keys, bundle_of(note_of(log_key, leaves)), NOW)
    return (state / STATE_FILE).read_bytes()


def alarms(state: Path) -> list[Path]:
    return sorted((state / "alarms").glob("*.json"))


# -- Countersigning --------------------------------------------------------------------------


def test_on_first_use_it_cosigns_and_stores_the_checkpoint(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    leaves = history(5)
    cosigned = witness(state, keys, bundle_of(note_of(log_key, leaves)), NOW)
    expected = Checkpoint(ORIGIN, 5, root(leaves), WHEN)
    assert verify(cosigned, witness_key.public_key(), WITNESS) == expected
    assert verify(cosigned, log_key.public_key()) == expected
    assert (state / STATE_FILE).read_bytes() == cosigned
    assert stat.S_IMODE(state.stat().st_mode) == 0o700


@pytest.mark.parametrize(
    ("old_size", "new_size"), [(0, 3), (1, 2), (3, 5), (4, 8), (5, 9), (7, 16), (8, 13)]
)
def test_growth_with_a_correct_proof_is_countersigned(
    state: Path,
    keys: WitnessKeys,
    log_key: Ed25519PrivateKey,
    witness_key: Ed25519PrivateKey,
    old_size: int,
    new_size: int,
) -> None:
    leaves = history(new_size)
    seen(state, keys, log_key, leaves[:old_size])
    cosigned = witness(state, keys, export(log_key, leaves, old_size), NOW)
    read = verify(cosigned, witness_key.public_key(), WITNESS)
    assert (read.size, read.root) == (new_size, root(leaves))
    assert (state / STATE_FILE).read_bytes() == cosigned


def test_the_same_checkpoint_again_gets_the_same_cosignature(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    bundle = bundle_of(note_of(log_key, history(5)))
    assert witness(state, keys, bundle, NOW) == witness(state, keys, bundle, NOW)
    assert alarms(state) == []


def test_the_same_tree_signed_again_later_is_cosigned_and_kept(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    seen(state, keys, log_key, history(5))
    later = note_of(log_key, history(5), when=WHEN + timedelta(seconds=60))
    cosigned = witness(state, keys, bundle_of(later), NOW + timedelta(seconds=60))
    assert cosigned.startswith(later)
    assert (state / STATE_FILE).read_bytes() == cosigned


def test_a_checkpoint_up_to_ten_minutes_ahead_of_the_clock_is_accepted(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    ahead = note_of(log_key, history(5), when=NOW + timedelta(minutes=10))
    witness(state, keys, bundle_of(ahead), NOW)


def test_a_very_old_checkpoint_is_accepted_as_the_docstring_says(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    old = note_of(log_key, history(5), when=NOW - timedelta(days=400))
    witness(state, keys, bundle_of(old), NOW)


def test_other_witnesses_signatures_are_kept(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    other = Ed25519PrivateKey.generate()
    note = cosign(note_of(log_key, history(5)), other, "other.example/w2")
    cosigned = witness(state, keys, bundle_of(note), NOW)
    assert verify(cosigned, other.public_key(), "other.example/w2").size == 5
    assert verify(cosigned, witness_key.public_key(), WITNESS).size == 5


def test_a_note_it_already_countersigned_is_returned_unchanged(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    cosigned = witness(state, keys, bundle_of(note_of(log_key, history(5))), NOW)
    assert witness(state, keys, bundle_of(cosigned), NOW) == cosigned


def test_a_forged_signature_line_in_the_witness_name_is_refused(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    before = seen(state, keys, log_key, history(5))
    # The witness's genuine line, but from another checkpoint: right key ID, wrong signature.
    stolen_line = before.rsplit(b"\n", 2)[1] + b"\n"
    note = note_of(log_key, history(5), when=WHEN + timedelta(seconds=1)) + stolen_line
    with pytest.raises(BadBundle, match="cannot countersign"):
        witness(state, keys, bundle_of(note), NOW)
    assert (state / STATE_FILE).read_bytes() == before


# -- Split views -----------------------------------------------------------------------------


def assert_alarm(state: Path, before: bytes, bundle: bytes, error: SplitView) -> None:
    """Check the alarm holds both notes and the bundle, and the good state is kept."""
    assert (state / STATE_FILE).read_bytes() == before
    [path] = alarms(state)
    assert error.evidence == path
    assert path.name == "20260301T123105Z.json"
    evidence = json.loads(path.read_text())
    assert evidence["format"] == "contactpoint-witness-alarm/v1"
    assert evidence["reason"] == error.reason
    assert evidence["last_cosigned"] == before.decode()
    assert evidence["received"] == json.loads(bundle)["checkpoint"]
    assert evidence["bundle"] == bundle.decode()


def test_a_log_restored_from_an_old_copy_and_carried_on_is_a_split_view(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    before = seen(state, keys, log_key, history(5))
    # Restored at size 3, then new events 3.. that differ from the ones the witness saw.
    rewritten = history(3) + history(5, tag=b"after restore")
    bundle = export(log_key, rewritten, 5)
    with pytest.raises(SplitView, match="consistency proof from size 5 to 8 fails") as caught:
        witness(state, keys, bundle, NOW)
    assert_alarm(state, before, bundle, caught.value)


def test_a_smaller_size_than_seen_is_a_split_view(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    before = seen(state, keys, log_key, history(8))
    bundle = bundle_of(note_of(log_key, history(5)))
    with pytest.raises(SplitView, match="size 5 after size 8") as caught:
        witness(state, keys, bundle, NOW)
    assert_alarm(state, before, bundle, caught.value)


def test_a_service_turns_a_smaller_size_away_as_stale_without_an_alarm(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    # Anyone may post to the service: a replayed old checkpoint proves no split view.
    before = seen(state, keys, log_key, history(8))
    bundle = bundle_of(note_of(log_key, history(5)))
    with pytest.raises(Stale, match="holds size 8") as caught:
        witness(state, keys, bundle, NOW, replay_is_alarm=False)
    assert caught.value.last == before == (state / STATE_FILE).read_bytes()
    assert not (state / "alarms").exists()


def test_a_service_asks_again_for_a_proof_from_the_size_it_holds(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    leaves = history(9)
    before = seen(state, keys, log_key, leaves[:5])
    with pytest.raises(Stale, match="no consistency proof from size 5"):
        witness(state, keys, export(log_key, leaves, 3), NOW, replay_is_alarm=False)
    assert (state / STATE_FILE).read_bytes() == before
    witness(state, keys, export(log_key, leaves, 5), NOW, replay_is_alarm=False)


def test_a_service_still_raises_the_alarm_on_a_failing_proof(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    seen(state, keys, log_key, history(5))
    other = history(9, tag=b"rewritten")
    with pytest.raises(SplitView):
        witness(state, keys, export(log_key, other, 5), NOW, replay_is_alarm=False)
    assert len(alarms(state)) == 1


def test_the_same_size_with_another_root_is_a_split_view(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    before = seen(state, keys, log_key, history(5))
    bundle = bundle_of(note_of(log_key, [*history(4), leaf_hash(b"forged")]))
    with pytest.raises(SplitView, match="two roots for size 5") as caught:
        witness(state, keys, bundle, NOW)
    assert_alarm(state, before, bundle, caught.value)


def flip_a_bit(proof: list[bytes]) -> list[bytes]:
    return [proof[0][:-1] + bytes([proof[0][-1] ^ 1]), *proof[1:]]


@pytest.mark.parametrize(
    "tamper",
    [flip_a_bit, lambda p: p[1:], lambda p: [*p, p[0]], lambda p: [], lambda p: [p[0][:31]]],
    ids=["flipped bit", "hash dropped", "hash added", "empty", "short hash"],
)
def test_a_tampered_proof_is_a_split_view(
    state: Path,
    keys: WitnessKeys,
    log_key: Ed25519PrivateKey,
    tamper: Callable[[list[bytes]], list[bytes]],
) -> None:
    leaves = history(13)
    before = seen(state, keys, log_key, leaves[:5])
    proof = tamper(consistency_proof(leaves, 5))
    bundle = bundle_of(
        note_of(log_key, leaves), {"5": [base64.b64encode(h).decode() for h in proof]}
    )
    with pytest.raises(SplitView, match="proof from size 5 to 13 fails") as caught:
        witness(state, keys, bundle, NOW)
    assert_alarm(state, before, bundle, caught.value)


def test_after_an_alarm_the_true_history_is_still_accepted_and_alarms_accumulate(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    seen(state, keys, log_key, history(5))
    for _ in range(2):
        with pytest.raises(SplitView):
            witness(state, keys, bundle_of(note_of(log_key, history(3))), NOW)
    assert [p.name for p in alarms(state)] == ["20260301T123105Z-2.json", "20260301T123105Z.json"]
    witness(state, keys, export(log_key, history(9), 5), NOW)


# -- Refusals --------------------------------------------------------------------------------

Refusal = Callable[[Ed25519PrivateKey, list[bytes]], bytes]


def stranger_signed(log_key: Ed25519PrivateKey, leaves: list[bytes]) -> bytes:
    return bundle_of(note_of(Ed25519PrivateKey.generate(), leaves), {"5": []})


def body_edited(log_key: Ed25519PrivateKey, leaves: list[bytes]) -> bytes:
    note = note_of(log_key, leaves).replace(b"\n9\n", b"\n10\n", 1)
    return bundle_of(note, json.loads(export(log_key, leaves, 5))["proofs"])


def other_origin(log_key: Ed25519PrivateKey, leaves: list[bytes]) -> bytes:
    return bundle_of(note_of(log_key, leaves, origin="other.example/audit"), {"5": []})


def with_document(change: dict[str, object]) -> Refusal:
    def build(log_key: Ed25519PrivateKey, leaves: list[bytes]) -> bytes:
        document = json.loads(export(log_key, leaves, 5))
        document.update(change)
        return json.dumps(document).encode()

    return build


REFUSALS: dict[str, tuple[Refusal, str]] = {
    "signed by another key": (stranger_signed, "not signed by the log"),
    "body edited": (body_edited, "does not verify"),
    "wrong origin": (other_origin, "from log 'other.example/audit'"),
    "malformed JSON": (lambda k, h: export(k, h, 5)[:-1], "not UTF-8 JSON"),
    "not UTF-8": (lambda k, h: b'"\xff"', "not UTF-8 JSON"),
    "not an object": (lambda k, h: b"[]", "not a JSON object"),
    "too large": (lambda k, h: b" " * (1024 * 1024), "1048576 bytes or more"),
    "other format": (with_document({"format": "contactpoint-audit-bundle/v2"}), "of format"),
    "no checkpoint": (with_document({"checkpoint": None}), "needs a checkpoint"),
    "proofs not an object": (with_document({"proofs": []}), "needs a checkpoint"),
    "missing proof": (with_document({"proofs": {}}), "no consistency proof from size 5"),
    "proof of another size": (with_document({"proofs": {"4": []}}), "no consistency proof"),
    "proof not a list": (with_document({"proofs": {"5": "abc"}}), "not a list of base64"),
    "proof not base64": (with_document({"proofs": {"5": ["!!"]}}), "not base64"),
    "future": (lambda k, h: bundle_of(note_of(k, h, when=NOW + timedelta(minutes=11))), "after"),
}


@pytest.mark.parametrize("case", REFUSALS.values(), ids=REFUSALS.keys())
def test_a_bad_bundle_is_refused_and_the_state_is_untouched(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, case: tuple[Refusal, str]
) -> None:
    build, message = case
    leaves = history(9)
    before = seen(state, keys, log_key, leaves[:5])
    with pytest.raises(BadBundle, match=message):
        witness(state, keys, build(log_key, leaves), NOW)
    assert (state / STATE_FILE).read_bytes() == before
    assert not (state / "alarms").exists()


def test_a_bad_bundle_on_first_use_creates_no_state(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(BadBundle):
        witness(state, keys, stranger_signed(log_key, history(5)), NOW)
    assert not state.exists()


def test_a_naive_clock_is_a_programming_error(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    with pytest.raises(ValueError, match="time zone"):
        witness(state, keys, bundle_of(note_of(log_key, history(5))), NOW.replace(tzinfo=None))


# -- State -----------------------------------------------------------------------------------


def test_a_failed_write_leaves_the_last_state_and_no_temporary_file(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = seen(state, keys, log_key, history(5))

    def crash(source: object, target: object) -> None:
        raise OSError("simulated crash before the rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="simulated crash"):
        witness(state, keys, export(log_key, history(9), 5), NOW)
    assert (state / STATE_FILE).read_bytes() == before
    assert sorted(p.name for p in state.iterdir()) == ["checkpoint.note", "lock"]


def test_the_state_file_and_its_directory_are_synced(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    synced: list[int] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(os.fstat(fd).st_ino)
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    seen(state, keys, log_key, history(5))
    assert (state / STATE_FILE).stat().st_ino in synced
    assert state.stat().st_ino in synced


@pytest.mark.parametrize(
    "corrupt",
    [
        lambda note, key: note[:-10],
        lambda note, key: note.replace(b"\n5\n", b"\n4\n"),
        # Signed by the log, but never countersigned by this witness.
        lambda note, key: note_of(key, history(5)),
    ],
    ids=["truncated", "edited", "not cosigned by us"],
)
def test_a_corrupt_state_is_refused_rather_than_trusted(
    state: Path,
    keys: WitnessKeys,
    log_key: Ed25519PrivateKey,
    corrupt: Callable[[bytes, Ed25519PrivateKey], bytes],
) -> None:
    before = seen(state, keys, log_key, history(5))
    (state / STATE_FILE).write_bytes(corrupt(before, log_key))
    with pytest.raises(StateError, match="is not a checkpoint of"):
        witness(state, keys, export(log_key, history(9), 5), NOW)


def test_a_second_run_at_once_is_refused(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey
) -> None:
    seen(state, keys, log_key, history(5))
    with held_lock(state), pytest.raises(StateError, match="holds the lock"):
        witness(state, keys, export(log_key, history(9), 5), NOW)


@contextmanager
def held_lock(state: Path) -> Iterator[None]:
    """Hold the state's lock as another witness run would, through its own open file."""
    fd = os.open(state / "lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_an_empty_log_is_witnessed_and_then_grows(
    state: Path, keys: WitnessKeys, log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    empty = witness(state, keys, bundle_of(note_of(log_key, [])), NOW)
    assert verify(empty, witness_key.public_key(), WITNESS).root == EMPTY_ROOT
    witness(state, keys, export(log_key, history(2), 0), NOW)


# -- Key files -------------------------------------------------------------------------------


def write_key(path: Path, pem: bytes, mode: int) -> Path:
    path.write_bytes(pem)
    path.chmod(mode)
    return path


def private_pem(
    key: Ed25519PrivateKey | ec.EllipticCurvePrivateKey, password: bytes = b""
) -> bytes:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password)
        if password
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def test_pem_keys_load(tmp_path: Path, witness_key: Ed25519PrivateKey) -> None:
    private = write_key(tmp_path / "w.pem", private_pem(witness_key), 0o600)
    public_pem = witness_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    public = write_key(tmp_path / "w.pub.pem", public_pem, 0o644)
    raw = witness_key.public_key().public_bytes_raw()
    assert load_private_key(private).public_key().public_bytes_raw() == raw
    assert load_public_key(public).public_bytes_raw() == raw


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_private_key_others_can_read_is_refused_naming_the_file(
    tmp_path: Path, witness_key: Ed25519PrivateKey, mode: int
) -> None:
    path = write_key(tmp_path / "w.pem", private_pem(witness_key), mode)
    with pytest.raises(
        BadKeyFile, match=re.escape(f"permissions {mode:04o} for {path} are too open")
    ):
        load_private_key(path)


@pytest.mark.parametrize(
    ("pem", "message"),
    [
        (lambda: private_pem(Ed25519PrivateKey.generate(), b"secret"), "not an unencrypted PEM"),
        (lambda: private_pem(ec.generate_private_key(ec.SECP256R1())), "not an Ed25519"),
        (lambda: b"not a key\n", "not an unencrypted PEM"),
    ],
    ids=["encrypted", "not Ed25519", "not PEM"],
)
def test_an_unusable_private_key_is_refused(
    tmp_path: Path, pem: Callable[[], bytes], message: str
) -> None:
    with pytest.raises(BadKeyFile, match=message):
        load_private_key(write_key(tmp_path / "w.pem", pem(), 0o600))


def test_a_missing_or_wrong_public_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BadKeyFile, match=r"cannot read key file .*absent\.pem"):
        load_public_key(tmp_path / "absent.pem")
    ec_public = ec.generate_private_key(ec.SECP256R1()).public_key()
    pem = ec_public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    with pytest.raises(BadKeyFile, match="not an Ed25519 public key"):
        load_public_key(write_key(tmp_path / "ec.pub.pem", pem, 0o644))
