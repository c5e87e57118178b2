"""`contactpoint backup` and `restore`: a consistent copy that holds only ciphertext."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from contactpoint.ingest.loader import load_folder
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child
from tests.support.cli import run_cli
from tests.support.feeds import feed_row, write_feed
from tests.support.registry import empty_registry

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def populate(feeds: Path) -> None:
    write_feed(
        feeds,
        "nhs_demographics",
        [
            feed_row(
                record_id="N1",
                as_at="2026-11-01",
                given_name="Imogen",
                family_name="Thistlewood",
                date_of_birth="2012-08-09",
                sex="F",
                postcode="LS6 2AB",
                nhs_number="4010232137",
                org_code="A81001",
                org_role="gp",
                carer1_given_name="Priya",
                carer1_family_name="Thistlewood",
                carer1_relationship="mother",
                carer1_phone="07700 900456",
            ),
            feed_row(
                record_id="N2",
                as_at="2026-11-01",
                given_name="Bad",
                family_name="",
                date_of_birth="2012-08-09",
            ),
        ],
    )
    load_folder(feeds)


def snapshot() -> dict[str, object]:
    return {c.cpid: golden_record(c.id) for c in Child.objects.all()}


def test_a_backup_restores_to_the_same_registry(feeds: Path, tmp_path: Path) -> None:
    populate(feeds)
    before = snapshot()
    out = tmp_path / "registry.jsonl.gz"
    assert "wrote" in run_cli("backup", "--out", str(out)).stdout
    empty_registry()
    assert Child.objects.count() == 0
    assert "restored" in run_cli("restore", str(out)).stdout
    assert snapshot() == before
    assert run_cli("quarantine", "list").stdout.count("\n") == 2  # header and one row


def test_a_backup_holds_no_plaintext(feeds: Path, tmp_path: Path) -> None:
    populate(feeds)
    out = tmp_path / "registry.jsonl.gz"
    run_cli("backup", "--out", str(out))
    text = gzip.decompress(out.read_bytes()).decode()
    for value in ("Imogen", "Thistlewood", "Priya", "LS6 2AB", "4010232137", "2012-08-09", "07700"):
        assert value not in text


def test_restore_refuses_a_registry_that_is_not_empty(feeds: Path, tmp_path: Path) -> None:
    populate(feeds)
    out = tmp_path / "registry.jsonl.gz"
    run_cli("backup", "--out", str(out))
    refused = run_cli("restore", str(out), check=False)
    assert refused.returncode == 2 and "not empty" in refused.stderr


def test_restore_refuses_a_damaged_backup_and_changes_nothing(feeds: Path, tmp_path: Path) -> None:
    populate(feeds)
    out = tmp_path / "registry.jsonl.gz"
    run_cli("backup", "--out", str(out))
    lines = gzip.decompress(out.read_bytes()).splitlines(keepends=True)
    truncated = tmp_path / "truncated.jsonl.gz"
    truncated.write_bytes(gzip.compress(b"".join(lines[:-3])))
    empty_registry()
    refused = run_cli("restore", str(truncated), check=False)
    assert refused.returncode == 2 and "incomplete or damaged" in refused.stderr
    assert Child.objects.count() == 0
    not_a_backup = tmp_path / "x.gz"
    not_a_backup.write_bytes(gzip.compress(b"hello\n"))
    assert "not a contactpoint backup" in run_cli("restore", str(not_a_backup), check=False).stderr
