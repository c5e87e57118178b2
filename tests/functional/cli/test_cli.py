"""The `contactpoint` command as an operator meets it."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.support.cli import cli_env, run_cli
from tests.support.feeds import child_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_help_lists_every_command() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "contactpoint", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for command in ("init", "synth", "load", "quarantine", "keys", "backup", "restore", "serve"):
        assert command in out


def test_init_outside_development_refuses_to_make_demo_keys(tmp_path: Path) -> None:
    env = {
        "CONTACTPOINT_ENV": "production",
        "CONTACTPOINT_DATA_DIR": str(tmp_path),
        "CONTACTPOINT_SECRET_KEY": "a-real-secret-for-this-test-only-not-a-placeholder",
    }
    result = run_cli("init", check=False, env_extra=env)
    assert result.returncode == 2
    assert "contactpoint init" in result.stderr or "CONTACTPOINT_KEK_FILE" in result.stderr
    assert not (tmp_path / "keys" / "demo-kek.json").exists()


def test_init_in_development_makes_demo_keys_and_databases(tmp_path: Path) -> None:
    env = {
        "CONTACTPOINT_ENV": "development",
        "CONTACTPOINT_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{tmp_path}/r.sqlite3",
        "CONTACTPOINT_KEYSTORE_URL": f"sqlite:///{tmp_path}/k.sqlite3",
    }
    run_cli("init", env_extra=env)
    keys = tmp_path / "keys"
    assert (keys / "demo-kek.json").exists() and (keys / "demo-index-key.json").exists()
    assert (tmp_path / "r.sqlite3").exists() and (tmp_path / "k.sqlite3").exists()
    # Safe to run again: keys are kept, migrations are already applied.
    kek = (tmp_path / "keys" / "demo-kek.json").read_text()
    run_cli("init", env_extra=env)
    assert (tmp_path / "keys" / "demo-kek.json").read_text() == kek


def test_load_reports_what_it_did_and_quarantine_lists_it(feeds: Path) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [
            child_row(),
            child_row("N2", given_name="Kit", date_of_birth="2016-12-05", sex="Q", nhs_number=""),
        ],
    )
    result = run_cli("load", str(feeds))
    assert "1 rows loaded (1 new children" in result.stdout
    assert "1 rejected" in result.stdout
    listing = run_cli("quarantine", "list", "--source", "nhs_demographics").stdout
    assert "nhs_demographics\tpart-00000.csv\t3\tsex\trejected\tmust be M, F, U or empty" in listing
    assert "Kit" not in listing and "Nowak" not in listing and "2016-12-05" not in listing


def test_load_of_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli("load", str(tmp_path / "nowhere"), check=False)
    assert result.returncode == 2
    assert "is not a folder" in result.stderr and "Traceback" not in result.stderr


def test_serve_runs_gunicorn_and_shows_the_service_is_up(feeds: Path, server: str) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [child_row()],
    )
    run_cli("load", str(feeds))
    with urllib.request.urlopen(server + "/", timeout=5) as response:
        body = response.read().decode()
        headers = response.headers
    assert 'id="sign-in"' in body  # the start page, served by gunicorn
    assert "children-count" not in body  # no registry counts to anonymous callers
    assert headers["Server"].startswith("gunicorn")
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert "Nowak" not in body
    with urllib.request.urlopen(server + "/health", timeout=5) as response:
        assert b'"status": "ok"' in response.read()


def test_an_unexpected_failure_names_its_type_and_place_but_not_its_message(
    tmp_path: Path,
) -> None:
    # A corrupt key store database: the failure must not print what it read.
    bad = tmp_path / "keys.sqlite3"
    bad.write_bytes(b"not a database, Ola Nowak 2016-05-05")
    result = run_cli(
        "keys", "status", check=False, env_extra={"CONTACTPOINT_KEYSTORE_URL": f"sqlite:///{bad}"}
    )
    assert result.returncode == 2
    assert "`contactpoint keys` stopped on an unexpected DatabaseError at " in result.stderr
    assert "Nowak" not in result.stderr and "Traceback" not in result.stderr


def test_the_key_store_must_be_another_database(tmp_path: Path) -> None:
    same = f"sqlite:///{tmp_path}/one.sqlite3"
    result = run_cli(
        "keys",
        "status",
        check=False,
        env_extra={"DATABASE_URL": same, "CONTACTPOINT_KEYSTORE_URL": same},
    )
    assert result.returncode == 2
    assert "must name another database" in result.stderr


def test_a_reader_that_goes_away_stops_a_listing_quietly(feeds: Path) -> None:
    rows = [child_row(f"N{n}", family_name="") for n in range(400)]  # each rejected whole
    write_feed(feeds, "nhs_demographics", rows)
    run_cli("load", str(feeds), check=False)  # exits 1: every row was rejected
    command = f"{sys.executable} -m contactpoint quarantine list | head -n 2"
    result = run_cli_shell(command)
    assert result.stdout.count("\n") == 2 and "family_name" in result.stdout
    assert result.stderr == ""


def run_cli_shell(command: str) -> subprocess.CompletedProcess[str]:
    """A shell pipeline around the command, with this run's test databases."""
    return subprocess.run(  # noqa: S602 - a fixed pipeline written by the test
        command, shell=True, env=cli_env(), capture_output=True, text=True, timeout=120, check=True
    )
