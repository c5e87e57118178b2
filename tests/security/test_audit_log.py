"""The audit log's tamper evidence: each drill (docs/audit.md) edits the real database the way
an insider with database access could, and `verify` (and the CLI) says what is wrong."""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection
from pymerkle import InmemoryTree  # type: ignore[import-untyped]

from contactpoint.audit import checkpoint as notes
from contactpoint.audit import keys, log, merkle
from contactpoint.audit.models import Checkpoint, Event, Head
from contactpoint.audit.verify import verify
from contactpoint.keystore import service as keystore
from tests.support.cli import run_cli

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
CHILD = uuid.UUID("6f1c2a3b-4d5e-4f60-8a71-92b3c4d5e6f7")


def entry(n: int) -> log.Entry:
    return log.Entry(
        action="child:record:view",
        outcome="allowed",
        principal=f"user:{n % 3}",
        role="practitioner",
        organisation_id=7,
        purpose="safeguarding",
        child_id=CHILD,
        request_id=f"req-{n}",
        details={"fields": ["identity", "involvements"]},
    )


def write(count: int, first: int = 0) -> None:
    """Append `count` events a second apart; a checkpoint is signed at least every 60 s."""
    for n in range(first, first + count):
        log.append(entry(n), START + dt.timedelta(seconds=n))


def signed_log(events: int = 10) -> None:
    write(events)
    log.sign_checkpoint(START + dt.timedelta(seconds=events))


def problems() -> list[str]:
    report = verify()
    assert not report.ok
    return report.problems


def test_a_log_that_no_one_touched_verifies(tmp_path: Path) -> None:
    signed_log()
    report = verify()
    assert report.ok, report.problems
    assert report.events == 10 and report.latest is not None and report.latest.size == 10
    assert [e.index for e in Event.objects.order_by("index")] == list(range(10))
    # Checkpoints: the first append, and the one signed at the end; each also kept outside.
    assert Checkpoint.objects.count() == 2 and len(log.outside_notes()) == 2
    done = run_cli("audit", "verify")
    assert "OK: 10 events, 4 signed checkpoints" in done.stdout


def test_the_root_is_the_one_an_independent_implementation_computes() -> None:
    write(13)
    commitments = [bytes(row.commitment) for row in Event.objects.order_by("index")]
    theirs = InmemoryTree.init_from_entries(commitments, algorithm="sha256")
    ours = merkle.root([merkle.leaf_hash(c) for c in commitments])
    assert bytes(Head.objects.get().root) == theirs.get_root(13) == ours


def test_events_hold_no_child_data_in_clear_and_their_details_are_sealed() -> None:
    write(1)
    row = Event.objects.get()
    assert row.child_id == CHILD and row.sealed is not None
    assert b"involvements" not in bytes(row.sealed)
    assert len(bytes(row.commitment)) == 32


def test_a_changed_event_is_found() -> None:
    signed_log()
    with connection.cursor() as cursor:
        cursor.execute('UPDATE audit_event SET principal = %s WHERE "index" = 3', ["user:9"])
    found = problems()
    # The leaf is the commitment, which is unchanged: the tree still holds, the event not.
    assert found == ["event 3 does not match its commitment: changed after it was written"]


def test_a_deleted_event_is_found() -> None:
    signed_log()
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM audit_event WHERE "index" = 4')
    found = problems()
    assert "event 4 is missing: the log jumps from 3 to 5" in found
    assert any("was signed at size 10 but the log holds 9 events" in p for p in found)


def test_two_events_swapped_are_found() -> None:
    signed_log()
    two, five = Event.objects.get(index=2), Event.objects.get(index=5)
    moved = ("at", "principal", "request_id", "sealed", "commitment")
    values = {n: {c: getattr(row, c) for c in moved} for n, row in ((2, two), (5, five))}
    Event.objects.filter(index=2).update(**values[5])
    Event.objects.filter(index=5).update(**values[2])
    found = problems()
    for n in (2, 5):
        assert f"event {n}: its sealed details do not open at this place in the log" in " ".join(
            found
        )
    assert any("(size 10) does not match the events" in p for p in found)


def test_a_truncated_tail_is_found() -> None:
    signed_log()
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM audit_event WHERE "index" >= 7')
    found = problems()
    assert any("signed at size 10 but the log holds 7 events: events from 7 on" in p for p in found)
    assert any("the log's head says 10 events" in p for p in found)


def test_a_forged_event_is_found_even_with_a_correct_commitment_and_head() -> None:
    signed_log()
    # The forger writes an event whose commitment fits its columns and moves the head on;
    # it cannot seal under the audit key, so it copies another event's sealed details.
    forged = Event(
        index=10,
        at=START + dt.timedelta(seconds=30),
        action="child:record:view",
        outcome="allowed",
        principal="user:1",
        period="2026-11",
        sealed=Event.objects.get(index=9).sealed,
    )
    forged.commitment = log.commitment(b"\0" * 32, forged, None, {})
    forged.save(force_insert=True)
    head = Head.objects.get()
    frontier = log.stored_frontier(head).append(merkle.leaf_hash(bytes(forged.commitment)))
    Head.objects.update(
        size=frontier.size, root=frontier.root(), frontier=b"".join(frontier.hashes)
    )
    found = problems()
    assert found[0] == (
        "event 10: its sealed details do not open at this place in the log "
        "(forged, or moved from another place)"
    )
    # No checkpoint covers it: it was never signed, as an honest append would have been.
    assert found[1:] == [found[1]] and "event 10 (from 2026-11-20 09:00:30" in found[1]


def test_a_database_restored_from_an_old_copy_and_carried_on_is_found() -> None:
    write(6)
    log.sign_checkpoint(START + dt.timedelta(seconds=6))
    events, heads, checkpoints = (  # a backup taken at 6 events
        list(Event.objects.all()),
        list(Head.objects.all()),
        list(Checkpoint.objects.all()),
    )
    write(4, first=6)
    log.sign_checkpoint(START + dt.timedelta(seconds=10))
    for model in (Event, Head, Checkpoint):  # restore it
        model.objects.all().delete()
    Event.objects.bulk_create(events)
    Head.objects.bulk_create(heads)
    Checkpoint.objects.bulk_create(checkpoints)
    write(5, first=100)  # and carry on: signed checkpoints, consistent in the database
    log.sign_checkpoint(START + dt.timedelta(seconds=110))
    found = problems()
    assert len(found) == 1
    assert "checkpoint on line 3 of" in found[0]
    assert "(size 10) does not match the events" in found[0]
    assert "restored from an old copy" in found[0]
    done = run_cli("audit", "verify", check=False)
    assert done.returncode == 1 and "FAILED: 11 events" in done.stdout


def test_a_witness_copy_given_to_verify_is_checked(tmp_path: Path) -> None:
    signed_log()
    note = Checkpoint.objects.order_by("-size", "-at").first()
    assert note is not None
    copy = tmp_path / "witness-note"
    copy.write_text(note.note)
    Path(log.outside_path()).unlink()  # the log's own file lost: the witness still knows
    for model in (Event, Head, Checkpoint):  # a whole new history, with its checkpoints
        model.objects.all().delete()
    write(10, first=50)
    log.sign_checkpoint(START + dt.timedelta(seconds=60))
    assert verify().ok
    assert any(
        "witness-note (size 10) does not match" in p
        for p in verify([(f"the checkpoint in {copy}", copy.read_bytes())]).problems
    )


def test_a_shredded_month_still_proves_the_tree() -> None:
    signed_log()
    keystore.destroy_data_keys([log.period_owner("2026-11")])
    report = verify()
    assert report.ok and report.shredded == {"2026-11": 10}


def test_a_checkpoint_not_signed_by_the_log_is_a_problem() -> None:
    signed_log()
    row = Checkpoint.objects.order_by("-size").first()
    assert row is not None
    body = notes.Checkpoint(keys.log_name(), 10, b"\1" * 32, START)
    row.note = notes.sign(body, Ed25519PrivateKey.generate()).decode()
    row.save()
    assert any("is not validly signed by this log" in p for p in problems())


def test_export_gives_a_witness_a_checkpoint_and_a_proof_that_verify() -> None:
    write(5)
    log.sign_checkpoint(START + dt.timedelta(seconds=5))
    first = notes.verify(
        Checkpoint.objects.get(size=5, at=START + dt.timedelta(seconds=5)).note.encode(),
        keys.public_key(),
    )
    write(6, first=5)
    log.sign_checkpoint(START + dt.timedelta(seconds=11))
    bundle = json.loads(run_cli("audit", "export", "--since", "5").stdout)
    later = notes.verify(bundle["checkpoint"].encode(), keys.public_key())
    proof = [base64.b64decode(h) for h in bundle["proofs"]["5"]]
    assert later.size == 11
    assert merkle.verify_consistency(5, 11, first.root, later.root, proof)


def test_the_witness_countersigns_a_growing_log_and_raises_the_alarm_on_a_split_view(
    tmp_path: Path,
) -> None:
    witness_key = tmp_path / "witness.pem"
    keys.create_demo_signing_key(witness_key)  # any Ed25519 PEM, readable by its owner only
    log_key = tmp_path / "log.pem"
    log_key.write_text(run_cli("audit", "public-key").stdout)
    state = tmp_path / "witness"
    bundle = tmp_path / "bundle.json"

    def witness(since: int | None) -> tuple[int, str, str]:
        asked = ("--since", str(since)) if since is not None else ()
        bundle.write_text(run_cli("audit", "export", *asked).stdout)
        done = run_cli(
            "audit", "witness", str(bundle), "--state", str(state), "--log-key", str(log_key),
            "--key", str(witness_key), "--name", "witness.example/contactpoint", check=False,
        )  # fmt: skip
        return done.returncode, done.stdout, done.stderr

    write(6)
    log.sign_checkpoint(START + dt.timedelta(seconds=6))
    code, cosigned, _ = witness(None)
    assert code == 0 and cosigned.count("\u2014 ") == 2  # the log's signature and its own
    events = list(Event.objects.all())
    heads, checkpoints = list(Head.objects.all()), list(Checkpoint.objects.all())
    write(4, first=6)
    log.sign_checkpoint(START + dt.timedelta(seconds=10))
    assert witness(6)[0] == 0  # the log grew from what the witness saw: countersigned
    for model in (Event, Head, Checkpoint):  # restored from the copy taken at 6 ...
        model.objects.all().delete()
    Event.objects.bulk_create(events)
    Head.objects.bulk_create(heads)
    Checkpoint.objects.bulk_create(checkpoints)
    write(6, first=100)  # ... and carried on past 10
    log.sign_checkpoint(START + dt.timedelta(seconds=200))
    code, _, said = witness(10)
    assert code == 3 and "ALARM: split view" in said
    assert len(list((state / "alarms").iterdir())) == 1
