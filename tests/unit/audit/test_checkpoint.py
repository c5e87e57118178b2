"""Signed checkpoints: the C2SP note format, signing, cosigning, and every refusal."""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from contactpoint.audit import checkpoint
from contactpoint.audit.checkpoint import BadCheckpoint, Checkpoint, cosign, sign, verify
from contactpoint.audit.merkle import EMPTY_ROOT, leaf_hash, root

ORIGIN = "contactpoint.example/audit"
WITNESS = "witness.example/w1"
WHEN = datetime(2026, 3, 1, 12, 30, 5, tzinfo=UTC)
ROOT = root([leaf_hash(b"a"), leaf_hash(b"b"), leaf_hash(b"c")])
EM_DASH = "\u2014"


def a_checkpoint(size: int = 3, root_hash: bytes = ROOT) -> Checkpoint:
    return Checkpoint(ORIGIN, size, root_hash, WHEN)


def replace_line(note: bytes, number: int, line: str) -> bytes:
    lines = note.decode().split("\n")
    lines[number] = line
    return "\n".join(lines).encode()


# -- Format ----------------------------------------------------------------------------------


def test_the_body_is_a_c2sp_checkpoint_with_a_timestamp_extension_line() -> None:
    body = a_checkpoint().body().decode()
    assert body == (
        f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\ntimestamp 2026-03-01T12:30:05Z\n"
    )


def test_a_signed_note_is_the_body_a_blank_line_and_a_signature_line(
    log_key: Ed25519PrivateKey,
) -> None:
    note = sign(a_checkpoint(), log_key).decode()
    body, signatures = note.split("\n\n")
    assert body + "\n" == a_checkpoint().body().decode()
    dash, name, blob = signatures.removesuffix("\n").split(" ")
    assert (dash, name) == (EM_DASH, ORIGIN)
    raw = base64.b64decode(blob)
    public = log_key.public_key()
    expected_id = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public.public_bytes_raw()).digest()[
        :4
    ]
    assert raw[:4] == expected_id == checkpoint.key_id(ORIGIN, public)
    public.verify(raw[4:], a_checkpoint().body())  # raises if it is not Ed25519 over the body


# The example of golang.org/x/mod/sumdb/note, the reference implementation of signed notes:
# its private key, and the note it produces (Ed25519 signatures are deterministic).
GO_SIGNER = "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"  # 0x01 || seed
GO_VERIFIER = "ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"  # 0x01 || public key
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)


def test_notes_match_the_go_reference_implementation_byte_for_byte() -> None:
    key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(GO_SIGNER)[1:])
    assert key.public_key().public_bytes_raw() == base64.b64decode(GO_VERIFIER)[1:]
    assert checkpoint.key_id("PeterNeumann", key.public_key()).hex() == "c74f20a3"
    note = checkpoint.sign_note(GO_TEXT, key, "PeterNeumann")
    assert note == GO_TEXT + f"\n{EM_DASH} PeterNeumann {GO_SIGNATURE}\n".encode()
    assert checkpoint.open_note(note, key.public_key(), "PeterNeumann") == GO_TEXT


# -- Round trips -----------------------------------------------------------------------------


def test_a_signed_checkpoint_verifies_and_reads_back(log_key: Ed25519PrivateKey) -> None:
    assert verify(sign(a_checkpoint(), log_key), log_key.public_key()) == a_checkpoint()


def test_an_empty_log_has_a_checkpoint(log_key: Ed25519PrivateKey) -> None:
    empty = a_checkpoint(size=0, root_hash=EMPTY_ROOT)
    assert verify(sign(empty, log_key), log_key.public_key()) == empty


def test_timestamps_are_kept_in_utc_to_the_second() -> None:
    paris = timezone(timedelta(hours=1))
    stamped = Checkpoint(ORIGIN, 3, ROOT, datetime(2026, 3, 1, 13, 30, 5, 999, tzinfo=paris))
    assert stamped.timestamp == WHEN
    assert stamped == a_checkpoint()


def test_a_cosigned_note_verifies_under_both_keys(
    log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    note = cosign(sign(a_checkpoint(), log_key), witness_key, WITNESS)
    assert verify(note, log_key.public_key()) == a_checkpoint()
    assert verify(note, witness_key.public_key(), name=WITNESS) == a_checkpoint()
    assert note.decode().count(f"\n{EM_DASH} ") == 2


def test_the_log_key_is_found_among_other_signatures_in_any_order(
    log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    note = sign(a_checkpoint(), log_key)
    body, log_line = note.split(b"\n\n")
    witness_line = checkpoint.sign_note(body + b"\n", witness_key, WITNESS).split(b"\n\n")[1]
    reordered = body + b"\n\n" + witness_line + log_line
    assert verify(reordered, log_key.public_key()) == a_checkpoint()
    assert verify(reordered, witness_key.public_key(), name=WITNESS) == a_checkpoint()


# -- Refusals --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "replacement", "message"),
    [
        # A changed origin names another log, whose key signed nothing here.
        (0, "contactpoint.example/other-log", "no signature by contactpoint.example/other-log"),
        (1, "4", "does not verify"),
        (2, base64.b64encode(EMPTY_ROOT).decode(), "does not verify"),
        (3, "timestamp 2026-03-01T12:30:06Z", "does not verify"),
    ],
    ids=["origin", "size", "root", "timestamp"],
)
def test_a_tampered_body_is_rejected(
    log_key: Ed25519PrivateKey, line: int, replacement: str, message: str
) -> None:
    note = replace_line(sign(a_checkpoint(), log_key), line, replacement)
    with pytest.raises(BadCheckpoint, match=message):
        verify(note, log_key.public_key())


def test_a_changed_origin_is_rejected_even_when_the_key_name_is_given(
    log_key: Ed25519PrivateKey,
) -> None:
    note = replace_line(sign(a_checkpoint(), log_key), 0, "contactpoint.example/other-log")
    with pytest.raises(BadCheckpoint, match=f"the signature by {ORIGIN} does not verify"):
        verify(note, log_key.public_key(), name=ORIGIN)


def test_a_tampered_signature_is_rejected(log_key: Ed25519PrivateKey) -> None:
    note = sign(a_checkpoint(), log_key)
    body, line = note.split(b"\n\n")
    dash, name, blob = line.decode().removesuffix("\n").split(" ")
    raw = bytearray(base64.b64decode(blob))
    raw[10] ^= 1
    forged = body + f"\n\n{dash} {name} {base64.b64encode(raw).decode()}\n".encode()
    with pytest.raises(BadCheckpoint, match=f"the signature by {ORIGIN} does not verify"):
        verify(forged, log_key.public_key())


def test_a_note_signed_by_another_key_is_rejected(log_key: Ed25519PrivateKey) -> None:
    impostor = Ed25519PrivateKey.generate()
    note = sign(a_checkpoint(), impostor)
    with pytest.raises(BadCheckpoint, match=f"no signature by {ORIGIN} with key ID"):
        verify(note, log_key.public_key())


def test_a_witness_signature_alone_does_not_make_a_log_checkpoint(
    log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    note = checkpoint.sign_note(a_checkpoint().body(), witness_key, WITNESS)
    assert verify(note, witness_key.public_key(), name=WITNESS) == a_checkpoint()
    with pytest.raises(BadCheckpoint, match="no signature by"):
        verify(note, log_key.public_key())


def test_a_bad_signature_from_the_trusted_key_fails_the_note_despite_a_good_one(
    log_key: Ed25519PrivateKey,
) -> None:
    note = sign(a_checkpoint(), log_key)
    body, line = note.split(b"\n\n")
    other_body = a_checkpoint(size=4).body()
    wrong_line = checkpoint.sign_note(other_body, log_key, ORIGIN).split(b"\n\n")[1]
    with pytest.raises(BadCheckpoint, match="does not verify"):
        verify(body + b"\n\n" + line + wrong_line, log_key.public_key())


@pytest.mark.parametrize(
    ("note", "message"),
    [
        (b"\xff\xfe", "not UTF-8"),
        (b"a\n3\n\x07\n\n", "control character"),
        (b"contactpoint.example/audit\n3\n", "not text, a blank line"),
        (b"contactpoint.example/audit\n3\n\n", "not a signature line"),
        (b"o\n\n- o AAAAAAAA\n", "not a signature line"),
        (f"o\n\n{EM_DASH} o not*base64\n".encode(), "malformed signature line"),
        (f"o\n\n{EM_DASH} o+x AAAAAAAA\n".encode(), "malformed signature line"),
        (f"o\n\n{EM_DASH} o AAAA\n".encode(), "too short"),
        (b"x" * 70_000, "longer than"),
    ],
)
def test_a_malformed_note_is_rejected_with_a_reason(
    log_key: Ed25519PrivateKey, note: bytes, message: str
) -> None:
    with pytest.raises(BadCheckpoint, match=message):
        verify(note, log_key.public_key())


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n", "4 lines"),
        (f"{ORIGIN}\n03\n{base64.b64encode(ROOT).decode()}\ntimestamp x\n", "decimal"),
        (f"{ORIGIN}\n-3\n{base64.b64encode(ROOT).decode()}\ntimestamp x\n", "decimal"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\ntime 1\n", "not a timestamp"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT[:31]).decode()}\n"
         "timestamp 2026-03-01T12:30:05Z\n", "root is 32 bytes"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n"
         "timestamp 2026-03-01 12:30:05\n", "does not match format"),
        (f"{ORIGIN}\n3\n{base64.b64encode(ROOT).decode()}\n"
         "timestamp 2026-3-01T12:30:05Z\n", "canonical"),
    ],
)  # fmt: skip
def test_a_signed_body_that_is_not_a_checkpoint_is_rejected(
    log_key: Ed25519PrivateKey, body: str, message: str
) -> None:
    note = checkpoint.sign_note(body.encode(), log_key, ORIGIN)
    with pytest.raises(BadCheckpoint, match=message):
        verify(note, log_key.public_key())


def test_non_canonical_base64_is_rejected(log_key: Ed25519PrivateKey) -> None:
    # The last base64 character of a 32-byte value carries 2 unused bits; set one, and
    # the same root has a second spelling. Only the canonical one is a checkpoint.
    good = base64.b64encode(ROOT).decode()
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    loose = good[:42] + alphabet[alphabet.index(good[42]) ^ 1] + "="
    assert base64.b64decode(loose) == ROOT
    body = f"{ORIGIN}\n3\n{loose}\ntimestamp 2026-03-01T12:30:05Z\n"
    with pytest.raises(BadCheckpoint, match="canonical"):
        verify(checkpoint.sign_note(body.encode(), log_key, ORIGIN), log_key.public_key())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"origin": ""}, "not a key name"),
        ({"origin": "two words"}, "not a key name"),
        ({"origin": "a+b"}, "not a key name"),
        ({"origin": "log\n99"}, "not a key name"),
        ({"size": -1}, "size"),
        ({"size": 2**64}, "size"),
        ({"root": b"short"}, "32 bytes"),
        ({"timestamp": datetime(2026, 3, 1, 12, 30)}, "time zone"),
    ],
)
def test_a_checkpoint_that_could_not_be_written_is_refused(
    fields: dict[str, object], message: str
) -> None:
    values: dict[str, object] = {"origin": ORIGIN, "size": 3, "root": ROOT, "timestamp": WHEN}
    with pytest.raises(ValueError, match=message):
        Checkpoint(**{**values, **fields})  # type: ignore[arg-type]


def test_cosigning_refuses_a_malformed_note(witness_key: Ed25519PrivateKey) -> None:
    with pytest.raises(BadCheckpoint, match="not text, a blank line"):
        cosign(a_checkpoint().body(), witness_key, WITNESS)


def test_a_note_holds_a_bounded_number_of_signatures(
    log_key: Ed25519PrivateKey, witness_key: Ed25519PrivateKey
) -> None:
    note = sign(a_checkpoint(), log_key)
    for _ in range(checkpoint.MAX_SIGNATURES - 1):
        note = cosign(note, witness_key, WITNESS)
    assert verify(note, log_key.public_key()) == a_checkpoint()
    with pytest.raises(BadCheckpoint, match="already has 32 signatures"):
        cosign(note, witness_key, WITNESS)


def test_a_verifier_key_names_the_key_and_is_checked_against_its_id() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    text = checkpoint.vkey("witness.example/w", key)
    name, read = checkpoint.parse_vkey(text)
    assert name == "witness.example/w" and read.public_bytes_raw() == key.public_bytes_raw()
    other = checkpoint.vkey("witness.example/other", key)
    forged = text.split("+")[0] + "+" + other.split("+", 2)[1] + "+" + text.split("+", 2)[2]
    with pytest.raises(ValueError, match="ID does not match"):
        checkpoint.parse_vkey(forged)
    with pytest.raises(ValueError, match="not a verifier key"):
        checkpoint.parse_vkey("witness.example/w+00000000+AAAA")
