"""Shared fixtures: keys for the test environment, feed folders, a server, the actors.

Helpers that tests import live in tests/support/, never here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contactpoint import config
from contactpoint.audit import keys as audit_keys
from contactpoint.keystore import index_key, provider
from contactpoint.keystore.provider import kek_path, reset_provider
from tests.support.cli import serving


@pytest.fixture(scope="session", autouse=True)
def _test_keys() -> None:
    """Throw-away keys for the test environment, made once per run."""
    data = config.data_dir()
    data.mkdir(parents=True, exist_ok=True)
    if not provider.kek_path().exists():
        provider.create_demo_keyring(provider.kek_path())
    if not index_key.demo_index_key_path().exists():
        index_key.create_demo_index_key(index_key.demo_index_key_path())
    if not audit_keys.demo_signing_key_path().exists():
        audit_keys.create_demo_signing_key(audit_keys.demo_signing_key_path())
    provider.reset_provider()


@pytest.fixture(autouse=True)
def _audit_checkpoint_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's audit log keeps its checkpoints outside the database in a file of its
    own (the databases are emptied between tests; the data directory is not)."""
    monkeypatch.setenv("CONTACTPOINT_AUDIT_CHECKPOINT_FILE", str(tmp_path / "checkpoints.jsonl"))


@pytest.fixture
def feeds(tmp_path: Path) -> Path:
    folder = tmp_path / "feeds"
    folder.mkdir()
    return folder


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic population with every feed, made once per run by `synth`."""
    from contactpoint.synth import generate

    out = tmp_path_factory.mktemp("population") / "feeds"
    generate(children=600, seed=20261125, out=out, workers=1)
    # synth's own malformed-row rate (0.05%) may give none at this size: add two for sure.
    part = next((out / "child_benefit").glob("*.csv"))
    with part.open("a", encoding="utf-8") as handle:
        # No family name (rejected); its impossible date of birth alone would be a field note.
        handle.write("CB-BAD-1,2025-05-15,Zed,,,,2013-02-30" + "," * 23 + "\n")
        handle.write("CB-BAD-2,2025-05-15\n")
    return out


@pytest.fixture
def keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A keyring of this test's own, so rotating it leaves the other tests' keys alone."""
    path = tmp_path / "kek.json"
    path.write_text(kek_path().read_text())
    monkeypatch.setenv("CONTACTPOINT_KEK_FILE", str(path))
    reset_provider()
    yield path
    reset_provider()


@pytest.fixture
def server() -> Iterator[str]:
    with serving() as url:
        yield url


@pytest.fixture
def actors() -> Any:
    """The standard access actors (tests/support/actors.py), made in this test's database.

    Tests that use them are marked `django_db(transaction=True)`, like every database test
    here: a test run inside a transaction, followed in the same run by tests whose
    subprocesses write the same SQLite file, left later tests with "disk I/O error"
    (seen with tests/unit/registry/test_inserts.py, and again with the access tests).
    """
    from tests.support.actors import make_actors

    return make_actors()
