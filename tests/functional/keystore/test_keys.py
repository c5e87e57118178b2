"""Key rotation, status, retirement and crypto-shredding."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from contactpoint.ingest.loader import load_folder
from contactpoint.keystore import service
from contactpoint.keystore.models import DataKey
from contactpoint.keystore.provider import FileKeyProvider, get_provider
from contactpoint.registry import record_facts
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child
from tests.support.cli import run_cli
from tests.support.feeds import feed_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def load_children(feeds: Path, n: int) -> None:
    numbers = ["4010232137", "4010232145", "4010232153", "4010232161"][:n]
    write_feed(
        feeds,
        "nhs_demographics",
        [
            feed_row(
                record_id=f"N{i}",
                as_at="2026-11-01",
                given_name="Sam",
                family_name="Okafor",
                date_of_birth="2014-06-01",
                sex="M",
                postcode="NW1 3AB",
                nhs_number=number,
            )
            for i, number in enumerate(numbers)
        ],
    )
    load_folder(feeds)


def test_rotation_rewraps_every_key_and_the_data_still_opens(feeds: Path, keyring: Path) -> None:
    load_children(feeds, 3)
    old = get_provider().active_key_id()
    result = run_cli("keys", "rotate", env_extra={"CONTACTPOINT_KEK_FILE": str(keyring)})
    # The three children's, and the month's audit key (the rotation's event made it).
    assert "re-wrapped 4 data keys" in result.stdout
    # The running process (this test) notices the changed keyring without a restart.
    new = get_provider().active_key_id()
    assert new != old
    assert set(DataKey.objects.values_list("kek_id", flat=True)) == {new}
    for child in Child.objects.all():
        record = golden_record(child.id)
        assert record is not None and record.family_name is not None
        assert record.family_name.value == "Okafor"
    status = run_cli("keys", "status", env_extra={"CONTACTPOINT_KEK_FILE": str(keyring)}).stdout
    assert f"{new}\tyes\t4" in status and f"{old}\tno\t0" in status


def test_a_key_in_use_cannot_be_retired_and_an_unused_one_can(feeds: Path, keyring: Path) -> None:
    load_children(feeds, 2)
    provider = get_provider()
    assert isinstance(provider, FileKeyProvider)
    old = provider.active_key_id()
    provider.add_active_key()
    env = {"CONTACTPOINT_KEK_FILE": str(keyring)}
    refused = run_cli("keys", "retire", old, check=False, env_extra=env)
    assert refused.returncode == 2 and "2 data keys are still wrapped" in refused.stderr
    service.rewrap_all()
    assert run_cli("keys", "retire", old, env_extra=env).returncode == 0
    assert old not in json.loads(keyring.read_text())["keys"]


def test_rotation_can_stop_and_resume(feeds: Path, keyring: Path) -> None:
    load_children(feeds, 4)
    provider = get_provider()
    assert isinstance(provider, FileKeyProvider)
    provider.add_active_key()
    seen: list[int] = []
    assert service.rewrap_all(batch_size=1, progress=seen.append) == 4
    assert seen == [1, 2, 3, 4]
    assert service.rewrap_all() == 0


def test_destroying_a_data_key_makes_the_child_unreadable(feeds: Path) -> None:
    load_children(feeds, 2)
    gone, kept = list(Child.objects.order_by("id"))
    assert service.destroy_data_keys([gone.id]) == 1
    assert golden_record(gone.id) is None
    assert golden_record(kept.id) is not None


def test_a_wrapped_key_moved_to_another_child_does_not_open(feeds: Path) -> None:
    load_children(feeds, 2)
    first, second = DataKey.objects.order_by("owner_id")
    DataKey.objects.filter(pk=second.pk).update(wrapped=first.wrapped)
    with pytest.raises(Exception, match="authentication"):
        service.data_key(second.owner_id)


def test_a_ciphertext_moved_to_another_row_or_column_does_not_open(feeds: Path) -> None:
    from contactpoint.lib.crypto import DecryptionError
    from contactpoint.registry.models import SourceRecord

    load_children(feeds, 2)
    first, second = SourceRecord.objects.order_by("child_id")
    assert first.child_id is not None and second.child_id is not None
    # Another child's row: the associated data names the row (and the key differs).
    SourceRecord.objects.filter(pk=second.pk).update(payload=first.payload)
    with pytest.raises(DecryptionError):
        golden_record(second.child_id)
    # Same row, another column: the associated data names the column.
    cipher = record_facts.ciphers_for({first.child_id})[first.child_id]
    with pytest.raises(DecryptionError):
        record_facts.history_of(cipher, first.pk, first.payload)


def test_keys_status_counts_orphans(feeds: Path) -> None:
    load_children(feeds, 2)
    assert "registry: 0" in run_cli("keys", "status", "--orphans").stdout
    service.create_data_keys([uuid.uuid4()])  # as if a load died before its registry commit
    assert "registry: 1" in run_cli("keys", "status", "--orphans").stdout
