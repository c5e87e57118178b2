"""The file keyring provider: wrapping bound to a context, rotation seen by a running
process, retirement, and the refusals (an unknown key, an inline keyring rotated, a short
or doubly-set key)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from contactpoint import config
from contactpoint.keystore import index_key, provider
from contactpoint.keystore.provider import FileKeyProvider, UnknownKey
from contactpoint.lib import crypto

DATA_KEY = bytes(range(32))
CONTEXT = b"contactpoint/data-key/v1|owner-1"


@pytest.fixture
def keyring(tmp_path: Path) -> Path:
    path = tmp_path / "kek.json"
    provider.create_demo_keyring(path)
    return path


def test_a_wrapped_key_opens_only_under_its_own_context(keyring: Path) -> None:
    ring = FileKeyProvider(keyring)
    active = ring.active_key_id()
    wrapped = ring.wrap(active, DATA_KEY, CONTEXT)
    assert DATA_KEY not in wrapped
    assert ring.unwrap(active, wrapped, CONTEXT) == DATA_KEY
    with pytest.raises(crypto.DecryptionError):
        ring.unwrap(active, wrapped, b"contactpoint/data-key/v1|owner-2")


def test_a_key_id_not_in_the_keyring_is_an_unknown_key(keyring: Path) -> None:
    ring = FileKeyProvider(keyring)
    with pytest.raises(UnknownKey):
        ring.wrap("kek-not-there", DATA_KEY, CONTEXT)


def test_a_running_process_sees_a_rotation_and_still_opens_old_keys(keyring: Path) -> None:
    serving, operator = FileKeyProvider(keyring), FileKeyProvider(keyring)
    old = serving.active_key_id()
    wrapped = serving.wrap(old, DATA_KEY, CONTEXT)
    new = operator.add_active_key()
    os.utime(keyring, ns=(1, 1))  # the file changed, whatever the clock's resolution
    assert new != old
    assert serving.active_key_id() == new
    assert serving.key_ids() == sorted([old, new])
    assert serving.unwrap(old, wrapped, CONTEXT) == DATA_KEY


def test_the_active_key_cannot_be_retired_and_a_retired_one_opens_nothing(
    keyring: Path,
) -> None:
    ring = FileKeyProvider(keyring)
    old = ring.active_key_id()
    wrapped = ring.wrap(old, DATA_KEY, CONTEXT)
    with pytest.raises(ValueError, match="rotate first"):
        ring.retire(old)
    ring.add_active_key()
    ring.retire(old)
    assert old not in ring.key_ids()
    with pytest.raises(UnknownKey):
        ring.unwrap(old, wrapped, CONTEXT)


def test_a_keyring_given_inline_cannot_be_rotated(keyring: Path) -> None:
    ring = FileKeyProvider(None, keyring.read_text())
    active = ring.active_key_id()
    assert ring.unwrap(active, ring.wrap(active, DATA_KEY, CONTEXT), CONTEXT) == DATA_KEY
    with pytest.raises(config.ConfigurationError, match="CONTACTPOINT_KEK_FILE"):
        ring.add_active_key()


def test_a_keyring_both_inline_and_in_a_file_is_refused(
    keyring: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONTACTPOINT_KEK", keyring.read_text())
    monkeypatch.setenv("CONTACTPOINT_KEK_FILE", str(keyring))
    provider.reset_provider()
    try:
        with pytest.raises(config.ConfigurationError, match="not both"):
            provider.get_provider()
    finally:
        monkeypatch.undo()
        provider.reset_provider()


def test_a_keyring_round_trips_through_its_file_format() -> None:
    ring = provider.Keyring(active="kek-b", keys={"kek-a": b"a" * 32, "kek-b": b"b" * 32})
    assert provider.Keyring.parse(ring.dumps(), "test") == ring


def test_a_keyring_whose_active_key_is_missing_or_short_is_refused() -> None:
    missing = provider.Keyring(active="kek-a", keys={"kek-b": b"b" * 32})
    short = provider.Keyring(active="kek-a", keys={"kek-a": b"a" * 16})
    for ring in (missing, short):
        with pytest.raises(config.ConfigurationError, match="not 256 bits"):
            provider.Keyring.parse(ring.dumps(), "test")


def test_an_index_key_shorter_than_256_bits_is_refused() -> None:
    text = '{"format": "contactpoint-index-key/1", "key": "' + "QUFB" * 5 + '"}'
    with pytest.raises(config.ConfigurationError, match="at least 256 bits"):
        index_key._parse(text, "test")


def test_a_demo_index_key_reads_back_as_the_key_written(tmp_path: Path) -> None:
    path = tmp_path / "index.json"
    index_key.create_demo_index_key(path)
    key = index_key._parse(path.read_text(), str(path))
    assert len(key) == 32
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)
    assert key != index_key._parse(_another_demo_index_key(tmp_path), "other")


def _another_demo_index_key(folder: Path) -> str:
    path = folder / "other.json"
    index_key.create_demo_index_key(path)
    return path.read_text()
