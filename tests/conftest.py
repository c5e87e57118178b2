"""Shared fixtures: keys for the test environment, feed folders, and the CLI in a process."""

from __future__ import annotations

import contextlib
import csv
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connections

from contactpoint import config
from contactpoint.audit import keys as audit_keys
from contactpoint.keystore import index_key, provider
from contactpoint.registry.feeds import COLUMNS

ORGANISATIONS = (
    "code,kind,name,council_area_code,council_area_name,address_line1,town,postcode,phone,email\n"
    "A81001,gp_practice,Elm Tree Surgery,E09000007,Camden,1 High Street,London,NW1 1AA,"
    "020 7946 0000,surgery@example.nhs.uk\n"
    "100001,school,Parkside Primary School,E09000007,Camden,2 School Road,London,NW1 2AB,"
    "020 7946 0001,office@parkside.example\n"
)


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


def feed_row(**values: str) -> dict[str, str]:
    row = dict.fromkeys(COLUMNS, "")
    row.update(values)
    return row


# A made-up child the loading and linkage tests share.
AMELIA = dict(
    given_name="Amelia",
    family_name="Hartley",
    date_of_birth="2015-03-04",
    sex="F",
    address_line1="3 Elm Road",
    town="London",
    postcode="NW1 3AB",
    nhs_number="4010232137",
)


def child_row(record_id: str = "N1", **values: str) -> dict[str, str]:
    """An NHS demographics row for a made-up child, Ola Nowak; `values` change any field."""
    base = {
        "as_at": "2026-11-01",
        "given_name": "Ola",
        "family_name": "Nowak",
        "date_of_birth": "2016-05-05",
        "sex": "F",
        "nhs_number": "4010232137",
    }
    return feed_row(record_id=record_id, **{**base, **values})


def write_feed(folder: Path, source: str, rows: list[dict[str, str]], part: int = 0) -> Path:
    """Write a standard feed file (docs/feeds.md) and organisations.csv beside it."""
    (folder / source).mkdir(parents=True, exist_ok=True)
    if not (folder / "organisations.csv").exists():
        (folder / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    path = folder / source / f"part-{part:05d}.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def _url(alias: str) -> str:
    s = connections[alias].settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def cli_env() -> dict[str, str]:
    """The environment for a `contactpoint` process that uses this run's test databases."""
    env = dict(os.environ)
    env["DATABASE_URL"] = _url("default")
    env["CONTACTPOINT_KEYSTORE_URL"] = _url("keys")
    env["CONTACTPOINT_ENV"] = "test"
    env["CONTACTPOINT_DATA_DIR"] = str(config.data_dir())
    return env


def run_cli(
    *args: str, check: bool = True, env_extra: dict[str, str] | None = None, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    """Run `contactpoint ARGS` in a new process against this run's test databases."""
    result = subprocess.run(
        [sys.executable, "-m", "contactpoint", *args],
        env={**cli_env(), **(env_extra or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        **kwargs,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"contactpoint {' '.join(args)} failed:\n{result.stderr}")
    return result


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


@contextlib.contextmanager
def serving(env_extra: dict[str, str] | None = None, log: Path | None = None) -> Iterator[str]:
    """`contactpoint serve` on a free port, using this run's test databases.

    The address is http://localhost:PORT: the session cookies are `__Host-` and Secure,
    which browsers accept over plain HTTP from localhost only.
    """
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    output: Any = log.open("ab") if log else subprocess.DEVNULL
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactpoint",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        env={**cli_env(), **(env_extra or {})},
        stdout=output,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )
    url = f"http://localhost:{port}"
    try:
        for _ in range(150):
            try:
                urllib.request.urlopen(url + "/health", timeout=2).close()
                break
            except OSError:
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
        if log:
            output.close()


@pytest.fixture
def server() -> Iterator[str]:
    with serving() as url:
        yield url


@pytest.fixture
def actors() -> Any:
    """The standard access actors (tests/actors.py), made in this test's database.

    Tests that use them are marked `django_db(transaction=True)`, like every database test
    here: a test run inside a transaction, followed in the same run by tests whose
    subprocesses write the same SQLite file, left later tests with "disk I/O error"
    (seen with tests/unit/registry/test_inserts.py before, and again with issue 4's tests).
    """
    from tests.actors import make_actors

    return make_actors()
