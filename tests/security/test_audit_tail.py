"""The audit log's tail cannot be cut quietly: events must be signed on time, a log behind
its witness fails, and the witness is a service of its own that the log pushes to.

The drill is the attack of the penetration test: with write access to the database host,
delete the newest events and the checkpoints after them, empty the checkpoint file,
recompute the head with SHA-256 (no key needed), and see `verify` fail.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.db import connection, connections
from django.utils import timezone

from contactpoint.audit import checkpoint as notes
from contactpoint.audit import checkpointer, keys, log, merkle, push
from contactpoint.audit.models import Checkpoint, Event, Head
from contactpoint.audit.verify import verify
from contactpoint.audit.witness import load_private_key
from tests.support.cli import cli_env, run_cli, serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

START = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)
WITNESS_NAME = "witness.example/contactpoint"


def entry(n: int) -> log.Entry:
    return log.Entry(
        action="child:record:view",
        outcome="allowed",
        principal=f"user:{n % 3}",
        child_id=uuid.UUID(int=n + 1),
        details={"fields": ["identity"]},
    )


def write(count: int, first: int = 0, at: dt.datetime = START) -> None:
    """Append `count` events a second apart from `at`: each append after 10 quiet seconds
    signs a checkpoint, as the service does."""
    for n in range(first, first + count):
        log.append(entry(n), at + dt.timedelta(seconds=n))


def cut_tail(keep: int) -> None:
    """The attack: keep the first `keep` events, delete the rest and every checkpoint past
    them, empty the checkpoint file, and recompute the head with SHA-256 alone."""
    with connection.cursor() as cursor:
        cursor.execute('DELETE FROM audit_event WHERE "index" >= %s', [keep])
    Checkpoint.objects.filter(size__gt=keep).delete()
    log.outside_path().write_text("")
    commitments = Event.objects.order_by("index").values_list("commitment", flat=True)
    frontier = merkle.Frontier.from_leaves([merkle.leaf_hash(bytes(c)) for c in commitments])
    Head.objects.update(
        size=frontier.size, root=frontier.root(), frontier=b"".join(frontier.hashes)
    )


def test_events_without_any_checkpoint_fail_once_older_than_the_interval() -> None:
    write(5)
    Checkpoint.objects.all().delete()
    log.outside_path().write_text("")
    soon = START + dt.timedelta(seconds=20)  # within 10 s and the 20 s margin: not yet
    assert verify(now=soon).ok
    found = verify(now=START + dt.timedelta(minutes=5)).problems
    assert len(found) == 1 and "events 0 to 4 (from 2026-11-20 09:00:00 UTC) have no" in found[0]
    done = run_cli("audit", "verify", check=False)
    assert done.returncode == 1 and "have no signed checkpoint" in done.stdout


def test_a_last_checkpoint_minutes_older_than_the_last_event_fails() -> None:
    write(3)  # signed at 0 (the first append)
    log.sign_checkpoint(START + dt.timedelta(seconds=3))
    write(2, first=300)  # minutes later: the first of them signs at once ...
    Checkpoint.objects.filter(size__gt=3).delete()  # ... but that checkpoint is removed
    log.outside_path().write_text("")  # and its copy outside
    found = verify(now=START + dt.timedelta(seconds=302)).problems
    assert len(found) == 1
    assert "the newest checkpoint, of 2026-11-20 09:00:03 UTC, is older than events" in found[0]


def test_events_signed_long_after_they_were_written_fail() -> None:
    write(3)
    write(3, first=5)  # within 10 s of the first checkpoint: left to the checkpointer
    log.sign_checkpoint(START + dt.timedelta(minutes=4))  # which came minutes late
    found = verify(now=START + dt.timedelta(minutes=5)).problems
    assert len(found) == 1 and "5 events waited too long for a signed checkpoint" in found[0]


def test_a_quiet_log_needs_no_new_checkpoint_and_fresh_events_may_wait() -> None:
    write(3)
    log.sign_checkpoint(START + dt.timedelta(seconds=3))
    assert verify(now=START + dt.timedelta(days=30)).ok  # nothing happened since: fine
    write(2, first=4)  # unsigned, but only 2 s old at the time verify looks
    assert verify(now=START + dt.timedelta(seconds=7)).ok


def test_drill_a_tail_cut_between_checkpoints_is_found_by_time_alone() -> None:
    write(12)  # signed at 0 and 10 (size 11); event 11 waits for the checkpointer
    log.sign_checkpoint(START + dt.timedelta(seconds=14))
    write(12, first=30)  # signed at 30 (size 13) and 40 (size 23); 41 waits
    log.sign_checkpoint(START + dt.timedelta(seconds=43))
    cut_tail(keep=18)  # the checkpoints of size 23 and 24 go; 13 to 17 are left unsigned
    assert Head.objects.get().size == 18 and log.outside_notes() == []
    found = verify(now=START + dt.timedelta(minutes=3)).problems
    assert len(found) == 1 and "events 13 to 17" in found[0] and "have no signed" in found[0]


def test_drill_a_tail_cut_at_a_checkpoint_is_found_by_the_witness(witness: str) -> None:
    now = timezone.now()
    write(6, at=now - dt.timedelta(seconds=60))  # signed at the first append
    log.sign_checkpoint(now - dt.timedelta(seconds=50))
    assert push.push(witness) is not None
    write(6, first=20, at=now - dt.timedelta(seconds=60))  # signed at the first, 20 s later
    log.sign_checkpoint(now - dt.timedelta(seconds=30))
    checkpointer.push_if_new()  # as the serving process's checkpointer does
    assert verify().ok and verify().witness.size == 12  # type: ignore[union-attr]
    cut_tail(keep=6)  # back to the checkpoint of size 6: consistent, signed, on time
    found = verify().problems
    assert len(found) == 1
    assert found[0].startswith(f"the witness's checkpoint ({witness}) was signed at size 12")
    assert "but the log holds 6 events: events from 6 on were removed" in found[0]
    done = run_cli("audit", "verify", check=False)
    assert done.returncode == 1 and "FAILED: 6 events" in done.stdout
    assert "witness: holds size 12" in done.stdout


def test_checkpoints_that_do_not_reach_the_witness_fail(witness: str) -> None:
    then = timezone.now() - dt.timedelta(minutes=5)
    write(3, at=then)
    log.sign_checkpoint(then + dt.timedelta(seconds=3))  # signed on time, never pushed
    signed = then + dt.timedelta(seconds=3)
    assert verify().problems == [
        f"the witness holds 0 events, but the log signed 3 at {signed:%Y-%m-%d %H:%M:%S} UTC: "
        "its checkpoints are not reaching the witness"
    ]


def test_with_its_verifier_key_only_the_witness_s_own_note_counts(
    witness: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(3, at=timezone.now())
    assert push.push(witness) is not None
    own = load_private_key(tmp_path / "witness.pem").public_key()
    monkeypatch.setenv("CONTACTPOINT_AUDIT_WITNESS_KEY", notes.vkey(WITNESS_NAME, own))
    assert verify().ok
    # Whoever else answers at the witness's address, with a note the log signed, is not it.
    other = Ed25519PrivateKey.generate().public_key()
    monkeypatch.setenv("CONTACTPOINT_AUDIT_WITNESS_KEY", notes.vkey(WITNESS_NAME, other))
    found = verify().problems
    assert len(found) == 1
    assert found[0].startswith(f"the witness's checkpoint is not countersigned by {WITNESS_NAME}")


def test_a_witness_that_cannot_be_asked_is_a_problem(unused_port: int) -> None:
    write(1, at=timezone.now())
    found = verify(witness_url=f"http://127.0.0.1:{unused_port}").problems
    assert len(found) == 1 and "could not be asked" in found[0]


def test_the_service_signs_the_events_after_a_checkpoint_and_pushes_them_to_the_witness(
    witness: str,
) -> None:
    with serving():
        log.append(entry(0))  # the first append signs at once: size 1
        log.append(entry(1))  # within 10 s: left to the serving process's checkpointer
        log.append(entry(2))
        deadline = time.monotonic() + 40
        held = 0
        while held < 3 and time.monotonic() < deadline:
            time.sleep(1)
            note = push.fetch(witness)
            held = notes.verify(note, keys.public_key()).size if note else 0
    assert held == 3 and log.signed_size() == 3
    assert verify().ok


def test_a_command_signs_what_it_appended_before_it_ends() -> None:
    log.append(entry(0))  # signs size 1; what comes in the next 10 s is not signed inline
    run_cli("oversight", "detect", "--day", "2026-11-19")
    assert Head.objects.get().size == 2 and log.signed_size() == 2


def test_a_checkpointer_tick_signs_pending_events_only_when_the_last_is_10_s_old() -> None:
    now = timezone.now()
    log.append(entry(0), now - dt.timedelta(seconds=5))
    log.append(entry(1), now - dt.timedelta(seconds=4))
    checkpointer.tick()
    assert log.signed_size() == 1  # the last checkpoint is 5 s old
    Head.objects.update(signed_at=now - dt.timedelta(seconds=11))
    checkpointer.tick()
    assert log.signed_size() == 2
    checkpointer.tick()
    assert Checkpoint.objects.count() == 2  # nothing new: a quiet log is not signed again


def test_verify_reads_one_snapshot_while_another_thread_appends() -> None:
    write(1, at=timezone.now())
    stop, errors = threading.Event(), []

    def writer() -> None:
        try:
            n = 0
            while not stop.is_set():
                log.append(entry(n))
                n += 1
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        reports = []
        for _ in range(8):
            reports.append(verify())
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join()
    assert not errors
    assert [r.problems for r in reports] == [[]] * len(reports)
    assert reports[-1].events > reports[0].events  # the writer really ran beside them


def test_the_witness_service_turns_a_replayed_checkpoint_away_without_an_alarm(
    witness: str, witness_state: Path
) -> None:
    write(3, at=timezone.now())
    old = push.bundle([])
    assert push.push(witness) is not None
    log.sign_checkpoint(timezone.now() + dt.timedelta(seconds=1))
    write(2, first=3, at=timezone.now())
    log.sign_checkpoint(timezone.now() + dt.timedelta(seconds=2))
    assert push.push(witness) is not None
    replayed = urllib.request.Request(f"{witness}/add-checkpoint", json.dumps(old).encode())
    with pytest.raises(urllib.error.HTTPError) as answer:
        urllib.request.urlopen(replayed, timeout=5)
    assert answer.value.code == 409 and b"\n5\n" in answer.value.read()  # what it holds
    assert not (witness_state / "alarms").exists()  # and no alarm


def test_production_refuses_to_start_with_the_checkpoint_file_in_the_data_directory(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    production = {
        "CONTACTPOINT_ENV": "production",
        "CONTACTPOINT_DATA_DIR": str(data),
        "CONTACTPOINT_SECRET_KEY": "a-real-secret-for-this-test-only-not-a-placeholder",
        "CONTACTPOINT_AUDIT_CHECKPOINT_FILE": str(data / "audit" / "checkpoints.jsonl"),
        "CONTACTPOINT_KEK_FILE": str(tmp_path / "keys" / "kek.json"),
        "CONTACTPOINT_AUDIT_WITNESS_URL": "https://witness.example/contactpoint",
    }
    done = run_cli("audit", "verify", check=False, env_extra=production)
    assert done.returncode == 2 and done.stdout == ""
    assert "CONTACTPOINT_AUDIT_CHECKPOINT_FILE (the audit log's checkpoint file) is inside" in (
        done.stderr
    )
    production["CONTACTPOINT_WITNESS_DIR"] = str(data / "witness")
    served = run_cli("witness", "serve", "--log-key", "x", "--key", "y", "--name", "w",
                     check=False, env_extra=production)  # fmt: skip
    assert served.returncode == 2 and "is inside CONTACTPOINT_DATA_DIR" in served.stderr


# -- the witness service, as its own process with its own store ------------------------------

URL = "CONTACTPOINT_AUDIT_WITNESS_URL"


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def witness_state(tmp_path: Path) -> Path:
    return tmp_path / "witness-store"


@pytest.fixture
def witness(
    tmp_path: Path, witness_state: Path, unused_port: int, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """`contactpoint witness serve` on a free port, with its own key and store; the log
    (this process, and the commands and servers it starts) pushes to it."""
    log_key, witness_key = tmp_path / "log.pem", tmp_path / "witness.pem"
    log_key.write_text(keys.public_pem(keys.public_key()))
    keys.create_demo_signing_key(witness_key)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contactpoint",
            "witness",
            "serve",
            "--listen",
            f"127.0.0.1:{unused_port}",
            "--state",
            str(witness_state),
            "--log-key",
            str(log_key),
            "--key",
            str(witness_key),
            "--name",
            WITNESS_NAME,
        ],
        env=cli_env(),
        stdout=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{unused_port}"
    monkeypatch.setenv(URL, url)
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{url}/checkpoint", timeout=2).close()
            except urllib.error.HTTPError:
                break  # 404: up, and holding nothing yet
            except OSError:
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
