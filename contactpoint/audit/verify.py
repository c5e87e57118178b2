"""Check the whole audit log against its checkpoints, and say exactly what is wrong.

Reads every event in index order once and checks, for each: that no index is missing, that
its sealed details open where they are (they are bound to their index), that its columns,
details and sealed child still match the commitment that is its leaf, and that its child
tag is the tag of that child (so an event cannot be moved out of, or into, a child's
history unseen). It rebuilds the tree as
it goes and compares the root at each checkpoint's size with the signed one, so an event
changed, removed, moved or inserted before a checkpoint, and a tail cut off after one,
show. Checkpoints held outside the database (the log's own file, the witness service's,
a copy given by hand) catch a database cut short, or restored from an old copy and carried
on: its new checkpoints are signed, but they do not reach or extend the ones held outside.

It also checks time, since a log is signed at least every CONTACTPOINT_AUDIT_CHECKPOINT_
SECONDS while events arrive (contactpoint.audit.checkpointer): every event must be covered
by a checkpoint signed within that interval plus CONTACTPOINT_AUDIT_CHECKPOINT_MARGIN_
SECONDS of it (unless it is younger than that now), the events after the newest checkpoint
cannot be much younger than it (an append after a quiet spell signs at once), and every
checkpoint that old must have reached the witness. A quiet log needs no new checkpoint.

The database is read in one snapshot (REPEATABLE READ on PostgreSQL, one read
transaction on SQLite), after what is held outside, so appends running meanwhile raise no
false alarm.

Events of a month whose audit key was destroyed (crypto-shredded) cannot be opened; they
are counted apart, and their leaves still prove the tree.
"""

from __future__ import annotations

import bisect
import datetime as dt
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from contactpoint import config
from contactpoint.audit import checkpoint as notes
from contactpoint.audit import keys, log, merkle, push
from contactpoint.audit.models import Checkpoint, Event, Head
from contactpoint.keystore import service as keystore
from contactpoint.lib import crypto

WITNESS_KEY = "CONTACTPOINT_AUDIT_WITNESS_KEY"  # the witness's verifier key (name+id+key)
COLUMNS = (
    "index",
    "at",
    "action",
    "outcome",
    "principal",
    "role",
    "organisation_id",
    "purpose",
    "child_tag",
    "request_id",
    "period",
    "sealed",
    "commitment",
)


@dataclass(frozen=True)
class Stated:
    """A signed checkpoint to check the log against, and where it was found."""

    where: str
    size: int
    root: bytes
    at: dt.datetime


@dataclass
class Report:
    events: int = 0
    checkpoints: int = 0
    latest: Stated | None = None
    witness: Stated | None = None  # what the witness service holds, when it was asked
    shredded: dict[str, int] = field(default_factory=dict)  # period -> events
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(
    outside: Sequence[tuple[str, bytes]] = (),
    witness_url: str | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Check every event and checkpoint, and that the log was signed and witnessed on time.

    Args:
        outside: (where, note) checkpoints kept outside the database, besides the log's
            own file of them (log.outside_notes) and the witness's.
        witness_url: the witness service to ask; by default CONTACTPOINT_AUDIT_WITNESS_URL.
        now: the time to judge "on time" by; by default the clock.
    """
    # Judged as of the start: an event that arrived just before the snapshot is not late
    # because reading a large log took minutes.
    now = now or timezone.now()
    report = Report()
    public = keys.public_key()
    # What is held outside is read first: a checkpoint signed after the snapshot below
    # would otherwise look like a tail cut off.
    held = _signed_outside(public, [*outside, *log.outside_notes()], report)
    url = witness_url or config.audit_witness_url()
    if url is not None:
        report.witness = _witness(url, public, report)
        held += [report.witness] if report.witness else []
    with snapshot():
        signed = _signed_in_database(public, report)
        stated = signed + held
        report.checkpoints = len(stated)
        report.latest = max(stated, key=lambda s: (s.size, s.at), default=None)
        timing = _Timing(stated, _allowed())
        roots = _walk(report, {s.size for s in stated}, timing)
        _check_head(report, roots[report.events])
    _check_sizes(report, stated, roots)
    _check_time(report, timing, now)
    if url is not None:
        _check_witnessed(report, signed, now)
    return report


@contextmanager
def snapshot() -> Iterator[None]:
    """Read the registry database as of one moment, without stopping its writers."""
    if connection.in_atomic_block:  # already one transaction (a test's, a caller's)
        yield
    elif connection.vendor == "postgresql":
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield
    elif connection.vendor == "sqlite":
        # Writers BEGIN IMMEDIATE (settings.py); a reader's DEFERRED transaction takes no
        # write lock and sees the database as of its first read, in WAL mode.
        connection.ensure_connection()
        mode = getattr(connection, "transaction_mode", None)
        connection.transaction_mode = "DEFERRED"  # type: ignore[attr-defined]
        try:
            with transaction.atomic():
                connection.transaction_mode = mode  # type: ignore[attr-defined]
                yield
        finally:
            connection.transaction_mode = mode  # type: ignore[attr-defined]
    else:
        yield


def _allowed() -> dt.timedelta:
    every = settings.CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS
    return dt.timedelta(seconds=every + settings.CONTACTPOINT_AUDIT_CHECKPOINT_MARGIN_SECONDS)


def _check_sizes(report: Report, stated: list[Stated], roots: dict[int, bytes]) -> None:
    size = report.events
    for s in sorted(stated, key=lambda s: s.size):
        if s.size > size:
            report.problems.append(
                f"{s.where} was signed at size {s.size:,} but the log holds {size:,} events: "
                f"events from {size:,} on were removed"
            )
        elif roots[s.size] != s.root:
            report.problems.append(
                f"{s.where} (size {s.size:,}) does not match the events: an event before "
                f"{s.size:,} was changed, removed, moved or inserted, or the history was "
                "rewritten (a database restored from an old copy and carried on)"
            )


class _Timing:
    """When each event was first covered by a signed checkpoint, as the walk sees them."""

    def __init__(self, stated: list[Stated], allowed: dt.timedelta) -> None:
        pairs = sorted((s.size, s.at) for s in stated)
        self.sizes = [size for size, _ in pairs]
        # The earliest time any checkpoint at least this large was signed.
        self.first_signed = [at for _, at in pairs]
        for i in range(len(pairs) - 2, -1, -1):
            self.first_signed[i] = min(self.first_signed[i], self.first_signed[i + 1])
        self.allowed = allowed
        self.newest = max((at for _, at in pairs), default=None)
        self.late: list[tuple[int, dt.datetime, dt.datetime]] = []  # index, at, signed
        self.unsigned: list[tuple[int, dt.datetime]] = []  # index, at

    def see(self, index: int, at: dt.datetime) -> None:
        first = bisect.bisect_right(self.sizes, index)  # the smallest size covering it
        if first == len(self.sizes):
            self.unsigned.append((index, at))
        elif self.first_signed[first] > at + self.allowed:
            self.late.append((index, at, self.first_signed[first]))


def _check_time(report: Report, timing: _Timing, now: dt.datetime) -> None:
    every = settings.CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS
    rule = (
        f"a log is signed at least every {every} s while events arrive "
        f"(allowed: {timing.allowed.total_seconds():.0f} s)"
    )
    if timing.late:
        index, at, signed = timing.late[0]
        report.problems.append(
            f"{len(timing.late):,} events waited too long for a signed checkpoint, the "
            f"first event {index:,} of {at:%Y-%m-%d %H:%M:%S} UTC until "
            f"{signed:%H:%M:%S}; {rule}: the checkpoints after them were removed, or the "
            "log was not being signed"
        )
    if not timing.unsigned:
        return
    (first, at), (last, _) = timing.unsigned[0], timing.unsigned[-1]
    events = f"event {first:,}" if first == last else f"events {first:,} to {last:,}"
    if now - at > timing.allowed:
        report.problems.append(
            f"{events} (from {at:%Y-%m-%d %H:%M:%S} UTC) have no signed checkpoint; {rule}: "
            "the checkpoints after them were removed, or the log is not being signed"
        )
    elif timing.newest is not None and at - timing.newest > timing.allowed:
        report.problems.append(
            f"the newest checkpoint, of {timing.newest:%Y-%m-%d %H:%M:%S} UTC, is older than "
            f"{events} after it by more than allowed: an append after a quiet spell is "
            "signed at once, so the checkpoints after it were removed"
        )


def _witness(url: str, public: Ed25519PublicKey, report: Report) -> Stated | None:
    """The checkpoint the witness service holds; a problem when it cannot be asked."""
    where = f"the witness's checkpoint ({url})"
    try:
        note = push.fetch(url)
    except push.WitnessUnreachable as exc:
        report.problems.append(
            f"the witness at {url} could not be asked ({exc}): the tail of "
            "the log cannot be checked against it"
        )
        return None
    if note is None:
        return None
    if not _cosigned_by_the_witness(note, report):
        return None
    found = _signed_outside(public, [(where, note)], report)
    return found[0] if found else None


def _cosigned_by_the_witness(note: bytes, report: Report) -> bool:
    """With CONTACTPOINT_AUDIT_WITNESS_KEY, the witness's note must carry its signature:
    whoever answers at its address cannot pass an old checkpoint of the log off as its."""
    vkey = os.environ.get(WITNESS_KEY, "").strip()
    if not vkey:
        return True
    try:
        name, key = notes.parse_vkey(vkey)
        notes.verify(note, key, name)
    except ValueError as exc:
        raise config.ConfigurationError(f"{WITNESS_KEY}: {exc}") from exc
    except notes.BadCheckpoint as exc:
        report.problems.append(f"the witness's checkpoint is not countersigned by {name}: {exc}")
        return False
    return True


def _check_witnessed(report: Report, signed: list[Stated], now: dt.datetime) -> None:
    """Every checkpoint signed longer ago than allowed must have reached the witness."""
    held = report.witness.size if report.witness else 0
    due = now - _allowed()
    missed = [s for s in signed if s.at < due and s.size > held]
    if missed:
        worst = max(missed, key=lambda s: s.size)
        report.problems.append(
            f"the witness holds {held:,} events, but the log signed {worst.size:,} at "
            f"{worst.at:%Y-%m-%d %H:%M:%S} UTC: its checkpoints are not reaching the witness"
        )


def _signed_in_database(public: Ed25519PublicKey, report: Report) -> list[Stated]:
    found = []
    for row in Checkpoint.objects.order_by("size", "at"):
        where = f"the checkpoint of {row.at:%Y-%m-%d %H:%M:%S} UTC"
        try:
            signed = notes.verify(row.note.encode(), public, keys.log_name())
        except notes.BadCheckpoint as exc:
            report.problems.append(f"{where} is not validly signed by this log: {exc}")
            continue
        if (signed.size, signed.root) != (row.size, bytes(row.root)):
            report.problems.append(f"{where}: its columns differ from the note it signed")
        found.append(Stated(where, signed.size, signed.root, signed.timestamp))
    return found


def _signed_outside(
    public: Ed25519PublicKey, given: Sequence[tuple[str, bytes]], report: Report
) -> list[Stated]:
    found = []
    for where, note in given:
        try:
            signed = notes.verify(note, public, keys.log_name())
        except notes.BadCheckpoint as exc:
            report.problems.append(f"{where} is not validly signed by this log: {exc}")
            continue
        found.append(Stated(where, signed.size, signed.root, signed.timestamp))
    return found


def _walk(report: Report, sizes: set[int], timing: _Timing) -> dict[int, bytes]:
    """Check each event in order; return the root at each size asked for and at the end."""
    frontier = merkle.Frontier()
    roots = {0: merkle.EMPTY_ROOT}
    openers: dict[str, bytes | None] = {}
    expected = 0
    for row in _events():
        if row.index != expected:
            report.problems.append(_gap(expected, row.index))
        _check_event(row, openers, report)
        timing.see(frontier.size, row.at)
        frontier = frontier.append(merkle.leaf_hash(bytes(row.commitment)))
        expected = row.index + 1
        if frontier.size in sizes:
            roots[frontier.size] = frontier.root()
    report.events = frontier.size
    roots[frontier.size] = frontier.root()
    return roots


def _events() -> Iterator[Event]:
    yield from Event.objects.order_by("index").only(*COLUMNS).iterator(chunk_size=2000)


def _gap(expected: int, found: int) -> str:
    if found < expected:  # cannot happen with index as the key; said plainly if it does
        return f"event {found:,} appears out of order"
    last = found - 1
    missing = (
        f"event {expected:,} is" if last == expected else f"events {expected:,} to {last:,} are"
    )
    return f"{missing} missing: the log jumps from {expected - 1:,} to {found:,}"


def _check_event(row: Event, keys_of: dict[str, bytes | None], report: Report) -> None:
    if row.period not in keys_of:
        owner = log.period_owner(row.period)
        keys_of[row.period] = keystore.data_keys([owner]).get(owner)
    key = keys_of[row.period]
    if key is None:
        report.shredded[row.period] = report.shredded.get(row.period, 0) + 1
        return
    if row.sealed is None:
        report.problems.append(f"event {row.index:,} has lost its sealed details")
        return
    try:
        body = log.open_body(key, row.index, bytes(row.sealed))
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        report.problems.append(
            f"event {row.index:,}: its sealed details do not open at this place in the log "
            "(forged, or moved from another place)"
        )
        return
    if log.commitment(body.salt, row, body.child, body.details) != bytes(row.commitment):
        report.problems.append(
            f"event {row.index:,} does not match its commitment: changed after it was written"
        )
        return
    tag = bytes(row.child_tag) if row.child_tag is not None else None
    if tag != (log.child_tag(body.child) if body.child else None):
        report.problems.append(
            f"event {row.index:,}: its child tag is not the tag of the child it was written "
            "about (moved into or out of a child's history)"
        )


def _check_head(report: Report, root: bytes) -> None:
    head = Head.objects.filter(pk=1).first()
    if head is None:
        if report.events:
            report.problems.append("the log's head is missing")
        return
    if head.size != report.events or bytes(head.root) != root:
        report.problems.append(
            f"the log's head says {head.size:,} events with another root than the "
            f"{report.events:,} events found"
        )
