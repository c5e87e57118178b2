from __future__ import annotations

import pytest

from contactpoint.lib import crypto


def test_a_sealed_value_opens_with_the_same_key_and_context() -> None:
    key = crypto.new_key()
    sealed = crypto.seal(key, b"Amelia", b"ctx")
    assert b"Amelia" not in sealed
    assert crypto.open_sealed(key, sealed, b"ctx") == b"Amelia"


def test_a_kept_key_seals_and_opens_as_the_functions_do() -> None:
    key = crypto.new_key()
    kept = crypto.SealingKey(key)
    sealed = [kept.seal(name, b"ctx") for name in (b"Amelia", b"Bo", b"Amelia")]
    assert len(set(sealed)) == 3
    assert [crypto.open_sealed(key, s, b"ctx") for s in sealed] == [b"Amelia", b"Bo", b"Amelia"]
    assert kept.open(crypto.seal(key, b"Cy", b"ctx"), b"ctx") == b"Cy"
    with pytest.raises(crypto.DecryptionError):
        kept.open(sealed[0], b"other")


def test_the_same_value_seals_differently_each_time() -> None:
    key = crypto.new_key()
    assert crypto.seal(key, b"x", b"c") != crypto.seal(key, b"x", b"c")


@pytest.mark.parametrize("change", ["key", "context", "tamper", "truncate", "version"])
def test_it_refuses_to_open_anything_else(change: str) -> None:
    key = crypto.new_key()
    sealed = crypto.seal(key, b"Amelia", b"table|column|row")
    other_key, context = key, b"table|column|row"
    if change == "key":
        other_key = crypto.new_key()
    elif change == "context":
        context = b"table|column|other-row"
    elif change == "tamper":
        sealed = sealed[:-1] + bytes([sealed[-1] ^ 1])
    elif change == "truncate":
        sealed = sealed[:20]
    else:
        sealed = b"\x02" + sealed[1:]
    with pytest.raises(crypto.DecryptionError):
        crypto.open_sealed(other_key, sealed, context)


def test_derived_keys_differ_by_purpose() -> None:
    root = crypto.new_key()
    assert crypto.derive_key(root, "a") != crypto.derive_key(root, "b")
    assert crypto.derive_key(root, "a") == crypto.derive_key(root, "a")


@pytest.mark.parametrize("bits", [1, 16, 22, 63])
def test_truncated_macs_stay_within_their_bits(bits: int) -> None:
    key = crypto.new_key()
    values = [crypto.truncated_mac(key, str(i).encode(), bits) for i in range(200)]
    assert all(0 <= v < 2**bits for v in values)
    assert max(values) >= 2 ** (bits - 1) or bits == 1


def test_truncation_refuses_sizes_a_bigint_column_cannot_hold() -> None:
    with pytest.raises(ValueError, match="bits"):
        crypto.truncated_mac(crypto.new_key(), b"x", 64)
