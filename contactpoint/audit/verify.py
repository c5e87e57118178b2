"""Check the whole audit log against its checkpoints, and say exactly what is wrong.

Reads every event in index order once and checks, for each: that no index is missing, that
its sealed details open where they are (they are bound to their index), and that its
columns and details still match the commitment that is its leaf. It rebuilds the tree as
it goes and compares the root at each checkpoint's size with the signed one, so an event
changed, removed, moved or inserted before a checkpoint, and a tail cut off after one,
show. Checkpoints held outside the database (the log's own file, a witness's copy) catch a
database restored from an old copy and carried on: its new checkpoints are signed, but
they do not extend the history the outside ones saw.

Events of a month whose audit key was destroyed (crypto-shredded) cannot be opened; they
are counted apart, and their leaves still prove the tree.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from contactpoint.audit import checkpoint as notes
from contactpoint.audit import keys, log, merkle
from contactpoint.audit.models import Checkpoint, Event, Head
from contactpoint.keystore import service as keystore
from contactpoint.lib import crypto

COLUMNS = (
    "index",
    "at",
    "action",
    "outcome",
    "principal",
    "role",
    "organisation_id",
    "purpose",
    "child_id",
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
    shredded: dict[str, int] = field(default_factory=dict)  # period -> events
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(outside: Sequence[tuple[str, bytes]] = ()) -> Report:
    """Check every event and checkpoint; `outside` are (where, note) checkpoints kept
    outside the database, besides the log's own file of them (log.outside_notes)."""
    report = Report()
    public = keys.public_key()
    stated = _signed_in_database(public, report)
    stated += _signed_outside(public, outside, report)
    report.checkpoints = len(stated)
    report.latest = max(stated, key=lambda s: (s.size, s.at), default=None)
    roots = _walk(report, {s.size for s in stated})
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
    _check_head(report, roots[size])
    return report


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
    for where, note in [*given, *log.outside_notes()]:
        try:
            signed = notes.verify(note, public, keys.log_name())
        except notes.BadCheckpoint as exc:
            report.problems.append(f"{where} is not validly signed by this log: {exc}")
            continue
        found.append(Stated(where, signed.size, signed.root, signed.timestamp))
    return found


def _walk(report: Report, sizes: set[int]) -> dict[int, bytes]:
    """Check each event in order; return the root at each size asked for and at the end."""
    frontier = merkle.Frontier()
    roots = {0: merkle.EMPTY_ROOT}
    openers: dict[str, bytes | None] = {}
    expected = 0
    for row in _events():
        if row.index != expected:
            report.problems.append(_gap(expected, row.index))
        _check_event(row, openers, report)
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
        body = json.loads(crypto.open_sealed(key, bytes(row.sealed), log.sealed_context(row.index)))
        salt = base64.b64decode(body["salt"])
        details = body["details"]
    except (crypto.DecryptionError, ValueError, KeyError, TypeError):
        report.problems.append(
            f"event {row.index:,}: its sealed details do not open at this place in the log "
            "(forged, or moved from another place)"
        )
        return
    if log.commitment(salt, row, details) != bytes(row.commitment):
        report.problems.append(
            f"event {row.index:,} does not match its commitment: changed after it was written"
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
