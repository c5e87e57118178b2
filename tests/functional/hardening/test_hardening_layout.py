"""The development layout keeps the keys and the demo credentials apart from the
databases, so that copying or backing up the database folder takes neither."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.support.cli import cli_env


def test_a_fresh_development_layout_keeps_keys_and_credentials_apart_from_databases(
    tmp_path: Path,
) -> None:
    env = {
        k: v
        for k, v in cli_env().items()
        if k not in ("DATABASE_URL", "CONTACTPOINT_KEYSTORE_URL", "CONTACTPOINT_KEK_FILE")
    }
    env |= {"CONTACTPOINT_ENV": "development", "CONTACTPOINT_DATA_DIR": str(tmp_path)}
    subprocess.run(
        [sys.executable, "-m", "contactpoint", "init", "--quiet"],
        env=env,
        check=True,
        capture_output=True,
        timeout=600,
    )
    databases = tmp_path / "db"
    assert {p.name for p in databases.iterdir() if p.suffix == ".sqlite3"} == {
        "contactpoint.sqlite3",
        "keystore.sqlite3",
    }
    keys = {p.name for p in (tmp_path / "keys").iterdir()}
    assert keys == {"demo-kek.json", "demo-index-key.json", "demo-audit-signing-key.pem"}
    for path in (tmp_path / "keys").iterdir():
        assert os.stat(path).st_mode & 0o077 == 0, path  # the owner's alone
    # Nothing but the databases (and SQLite's own -wal and -shm files) beside them.
    assert all(
        p.name.startswith(("contactpoint.sqlite3", "keystore.sqlite3")) for p in databases.iterdir()
    )
    assert not any(tmp_path.glob("*.json")) and not any(tmp_path.glob("*.pem"))
