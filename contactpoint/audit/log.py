"""Append audit events to the log and sign its checkpoints (docs/audit.md).

Every access that may show a child's data calls `append` first and shows nothing if it
raises `AuditUnavailable` (fail-closed). An append takes the log's head row for update,
so events get consecutive indexes, one writer at a time; the head keeps the tree's
frontier, so an append reads no other event. A checkpoint is signed in the same
transaction when the last is older than CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS (10);
the events after it are signed by `sign_if_pending`, which each serving process's
checkpointer runs every second and every command runs before it exits
(contactpoint.audit.checkpointer), so no event waits longer than about that interval.
Each new checkpoint is also appended to a file outside the database (`outside_path`) and
pushed to the witness service (contactpoint.audit.push), so that a database cut short or
restored from an old copy cannot quietly rewrite history (`contactpoint audit verify`
checks the log against both).

An event names its child only by `child_tag`, a keyed digest of the child's internal id
(`child_tag`, under a key derived from the index root key); the id itself is sealed with
the salt and the details. "The events about child X" is one indexed look-up of X's tag
(`about_children`); whoever must show which child an event was about opens its sealed
body (`children_of`), as the privacy officer's pages do (ADR 0012).

A purpose that says something special about the child (an emergency's reason, a
statutory access's) is `sealed_purpose`: kept in the sealed details under
SEALED_PURPOSE, the clear `purpose` left empty. Whoever shows why an event happened
reads `purposes_of`, which opens it (ADR 0010).
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import threading
import uuid
from collections.abc import Iterable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint import config
from contactpoint.audit import checkpoint as notes
from contactpoint.audit import keys, merkle
from contactpoint.audit.models import Checkpoint, Event, Head
from contactpoint.keystore import service as keystore
from contactpoint.keystore.index_key import derived_key
from contactpoint.lib import crypto

SALT_BYTES = 32
ALLOWED, REFUSED = Event.Outcome.ALLOWED.value, Event.Outcome.REFUSED.value
_PERIOD_NAMESPACE = uuid.UUID("5b0c6d8e-7f3a-4c1e-9a52-3d7c0f1e2a94")
CHILD_KEY = "audit-child/v1"  # derived from the index root key: the events' child tags
TAG_BYTES = 16
SEALED_PURPOSE = "sealed_purpose"  # the details' key of a sealed purpose


class Who(Protocol):
    """Who acted, as an event names them: what the log reads of an access principal
    (contactpoint.access.permissions.Principal), which the layer above defines."""

    @property
    def key(self) -> str: ...  # "user:<id>" or "client:<id>"

    @property
    def role(self) -> str: ...

    @property
    def organisation_id(self) -> int: ...


class AuditUnavailable(Exception):
    """The audit log could not be written: the access must show nothing."""


@dataclass(frozen=True)
class Entry:
    """What happened, as the caller knows it. `details` is sealed (e.g. the fields shown)."""

    action: str  # "<source>:<subject>:<action>", e.g. "child:record:view"
    outcome: str  # Event.Outcome
    principal: str = ""
    role: str = ""
    organisation_id: int | None = None
    purpose: str = ""
    sealed_purpose: str = ""  # a purpose that says something special: sealed, not in clear
    child_id: uuid.UUID | None = None
    request_id: str = ""
    signals: str = ""  # contactpoint.oversight.signals: what misuse detection reads
    details: Mapping[str, Any] = field(default_factory=dict)


# Set once this process has appended: a command signs what it wrote before it exits.
_APPENDED = threading.Event()

# The request being served, set by contactpoint.audit.middleware.RequestId.
REQUEST_ID: ContextVar[str] = ContextVar("contactpoint_audit_request_id", default="")


def entry(
    principal: Who | None,
    action: str,
    outcome: str = Event.Outcome.ALLOWED,
    **fields: Any,
) -> Entry:
    """An Entry for `principal` (None before anyone is known), in the current request."""
    who: dict[str, Any] = {}
    if principal is not None:
        who = {
            "principal": principal.key,
            "role": str(principal.role),
            "organisation_id": principal.organisation_id,
        }
    return Entry(action, outcome, request_id=REQUEST_ID.get(), **who, **fields)


def audit_refusal(principal: Who, rule: str, reason: str | None) -> None:
    """Record that `principal` was refused an operation guarded by `rule` (a Permission)."""
    details = {"reason": reason} if reason else {}
    append(entry(principal, f"access:{rule}", Event.Outcome.REFUSED, details=details))


def append(entry: Entry, now: dt.datetime | None = None) -> int:
    """Write one event durably (when not inside the caller's transaction) and return its
    index in the log.

    Raises:
        AuditUnavailable: the log or its key could not be written; nothing was recorded.
    """
    return append_many([entry], now)[0]


def append_many(entries: Sequence[Entry], now: dt.datetime | None = None) -> list[int]:
    """append, for several events of one access, in one transaction (all or none)."""
    at = now or timezone.now()
    try:
        with transaction.atomic():
            head = _locked_head()
            key = period_key(period_of(at))
            events = [_append(head, e, at, key) for e in entries]
            Event.objects.bulk_create(events)
            _APPENDED.set()
            if _checkpoint_due(head, at):
                _sign(head, at)
            head.save()
            return [e.index for e in events]
    except (DatabaseError, keystore.MissingDataKey, crypto.DecryptionError) as exc:
        raise AuditUnavailable("the audit log cannot be written") from exc


def writable(now: dt.datetime | None = None) -> None:
    """Prove that an event could be appended now, leaving the log as it was: take the head,
    the month's key, write an event and roll it all back (for `/health`).

    Raises:
        AuditUnavailable: the log or its key could not be written.
    """
    at = now or timezone.now()
    try:
        with transaction.atomic():
            head = _locked_head()
            probe = _append(
                head, Entry("health:audit:probe", ALLOWED), at, period_key(period_of(at))
            )
            Event.objects.bulk_create([probe])
            transaction.set_rollback(True)
    except (DatabaseError, keystore.MissingDataKey, crypto.DecryptionError) as exc:
        raise AuditUnavailable("the audit log cannot be written") from exc


def period_of(now: dt.datetime) -> str:
    """The month (UTC) an event at `now` is sealed under: "YYYY-MM"."""
    return now.astimezone(dt.UTC).strftime("%Y-%m")


def _append(head: Head, entry: Entry, now: dt.datetime, key: bytes) -> Event:
    """The event at the head's size, sealed under `key` (its month's), not yet saved; the
    head (not saved either) moved past it."""
    index = head.size
    salt = os.urandom(SALT_BYTES)
    period = period_of(now)
    event = Event(
        index=index,
        at=now,
        action=entry.action,
        outcome=entry.outcome,
        principal=entry.principal,
        role=entry.role,
        organisation_id=entry.organisation_id,
        purpose=entry.purpose,
        child_tag=child_tag(entry.child_id) if entry.child_id else None,
        request_id=entry.request_id,
        signals=entry.signals,
        period=period,
    )
    details = dict(entry.details)
    if entry.sealed_purpose:
        details[SEALED_PURPOSE] = entry.sealed_purpose
    event.commitment = commitment(salt, event, entry.child_id, details)
    event.sealed = seal_body(key, index, Body(salt, details, entry.child_id))
    frontier = stored_frontier(head).append(merkle.leaf_hash(event.commitment))
    head.size, head.root = frontier.size, frontier.root()
    head.frontier = b"".join(frontier.hashes)
    return event


def _locked_head() -> Head:
    # get_or_create: a test database flushed between tests has no head row yet.
    head, _ = Head.objects.select_for_update().get_or_create(
        pk=1, defaults={"size": 0, "frontier": b"", "root": merkle.EMPTY_ROOT}
    )
    return head


def stored_frontier(head: Head) -> merkle.Frontier:
    raw = bytes(head.frontier)
    size = merkle.HASH_SIZE
    return merkle.Frontier(head.size, tuple(raw[i : i + size] for i in range(0, len(raw), size)))


def commitment(
    salt: bytes, event: Event, child: uuid.UUID | None, details: Mapping[str, Any]
) -> bytes:
    """SHA-256 of the salt and the event's canonical form: the leaf's data. The salt stays
    sealed, so the commitment cannot be tested against guessed events."""
    return hashlib.sha256(salt + canonical(event, child, details)).digest()


def canonical(event: Event, child: uuid.UUID | None, details: Mapping[str, Any]) -> bytes:
    """The event as one deterministic JSON text: every column but the child's tag, the
    child's id in its place (the tag is computed from it), and the details."""
    doc = {
        "v": 1,
        "index": event.index,
        "at": event.at.astimezone(dt.UTC).isoformat(timespec="microseconds"),
        "action": event.action,
        "outcome": event.outcome,
        "principal": event.principal,
        "role": event.role,
        "organisation": event.organisation_id,
        "purpose": event.purpose,
        "child": str(child) if child else None,
        "request": event.request_id,
        "period": event.period,
        "details": details,
    }
    if event.signals:  # absent from events written before signals were kept
        doc["signals"] = event.signals
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def sealed_context(index: int) -> bytes:
    # Binds sealed details to their place in the log: moved to another row, they won't open.
    return f"contactpoint/audit/v1|{index}".encode()


@dataclass(frozen=True)
class Body:
    """What an event seals: the commitment's salt, the details, and the child's id."""

    salt: bytes
    details: dict[str, Any]
    child: uuid.UUID | None


def seal_body(key: bytes, index: int, body: Body) -> bytes:
    doc: dict[str, Any] = {"salt": base64.b64encode(body.salt).decode(), "details": body.details}
    if body.child is not None:
        doc["child"] = str(body.child)
    return crypto.seal(key, json.dumps(doc).encode(), sealed_context(index))


def open_body(key: bytes, index: int, sealed: bytes) -> Body:
    """The sealed body of the event at `index`.

    Raises:
        crypto.DecryptionError: it does not open there (forged, or moved from elsewhere).
        ValueError, KeyError, TypeError: it opens but is not an event's body.
    """
    doc = json.loads(crypto.open_sealed(key, sealed, sealed_context(index)))
    child = doc.get("child")
    return Body(base64.b64decode(doc["salt"]), doc["details"], uuid.UUID(child) if child else None)


def child_tag(child_id: uuid.UUID) -> bytes:
    """The keyed digest an event names its child by: the first 128 bits of HMAC-SHA256 of
    the child's internal id under a key derived from the index root key. Without that key
    a tag says nothing of which child it is, and it joins no other table's tag (each has
    its own derived key)."""
    return crypto.keyed_digest(derived_key(CHILD_KEY), child_id.bytes)[:TAG_BYTES]


def about_children(events: QuerySet[Event], child_ids: Iterable[uuid.UUID]) -> QuerySet[Event]:
    """These events narrowed to those about any of these children (one indexed look-up)."""
    return events.filter(child_tag__in=[child_tag(c) for c in set(child_ids)])


def children_of(events: Iterable[Event]) -> dict[int, uuid.UUID]:
    """The child each event is about, by the event's index, opening their sealed bodies
    (one key-store read for all their months). Events without a child, and those whose
    month was shredded, are not in it."""
    bodies = bodies_of([e for e in events if e.child_tag is not None])
    return {index: body.child for index, body in bodies.items() if body.child is not None}


def purposes_of(events: Iterable[Event]) -> dict[int, str]:
    """Why each event happened, by its index: its sealed purpose where it has one (opened
    with one key-store read for all their months), otherwise its clear `purpose`. An
    event whose month was shredded keeps only the clear one."""
    listed = list(events)
    bodies = bodies_of([e for e in listed if not e.purpose])
    purposes = {e.index: e.purpose for e in listed}
    for index, body in bodies.items():
        sealed = body.details.get(SEALED_PURPOSE)
        if isinstance(sealed, str) and sealed:
            purposes[index] = sealed
    return purposes


def bodies_of(events: Iterable[Event]) -> dict[int, Body]:
    """The events' sealed bodies, by index, opened (one key-store read for all their
    months). Those whose month was shredded, or that do not open, are not in it."""
    listed = [e for e in events if e.sealed is not None]
    owners = {e.period: period_owner(e.period) for e in listed}
    found = keystore.data_keys(list(set(owners.values()))) if owners else {}
    bodies = {}
    for event in listed:
        key, sealed = found.get(owners[event.period]), event.sealed
        if key is None or sealed is None:
            continue
        try:
            bodies[event.index] = open_body(key, event.index, bytes(sealed))
        except (crypto.DecryptionError, ValueError, KeyError, TypeError):
            continue  # forged or moved: `contactpoint audit verify` says so
    return bodies


def period_key(period: str) -> bytes:
    """The data key a month's event details are sealed under (made on first use).

    Read from the key store on every append, never kept in the process. Shred a month's
    details (destroy its key; every proof stays intact) only once the month is over: an
    append in a month whose key is gone makes the month a new key.
    """
    return keystore.ensure_data_key(period_owner(period))


def period_owner(period: str) -> uuid.UUID:
    return uuid.uuid5(_PERIOD_NAMESPACE, f"audit-period:{period}")


def _checkpoint_due(head: Head, now: dt.datetime) -> bool:
    last = head.signed_at
    every = settings.CONTACTPOINT_AUDIT_CHECKPOINT_SECONDS
    return last is None or (now - last).total_seconds() >= every


def sign_checkpoint(now: dt.datetime | None = None) -> Checkpoint:
    """Sign a checkpoint of the log as it is now (for `contactpoint audit checkpoint`)."""
    with transaction.atomic():
        head = _locked_head()
        row = _sign(head, now or timezone.now())
        head.save(update_fields=["signed_at"])
        return row


def sign_if_pending(
    now: dt.datetime | None = None, older_than: float | None = None
) -> Checkpoint | None:
    """Sign a checkpoint when events were appended after the newest one (and, given
    `older_than`, that one is at least that many seconds old); return it, or None.

    Looks first without a lock, so a quiet log costs two indexed reads and no write.
    """
    at = now or timezone.now()
    head = Head.objects.filter(pk=1).only("size", "signed_at").first()
    if head is None or head.size <= signed_size():
        return None
    recent = head.signed_at is not None and (at - head.signed_at).total_seconds()
    if older_than is not None and recent is not False and recent < older_than:
        return None
    with transaction.atomic():
        head = _locked_head()
        if head.size <= signed_size():  # another process signed them meanwhile
            return None
        row = _sign(head, at)
        head.save(update_fields=["signed_at"])
        return row


def signed_size() -> int:
    """The size of the largest checkpoint signed; 0 when there is none."""
    size = Checkpoint.objects.order_by("-size").values_list("size", flat=True).first()
    return size or 0


def appended_here() -> bool:
    """Whether this process has appended an event (a command then signs before it exits)."""
    return _APPENDED.is_set()


def _sign(head: Head, now: dt.datetime) -> Checkpoint:
    stated = notes.Checkpoint(keys.log_name(), head.size, bytes(head.root), now)
    note = notes.sign(stated, keys.signing_key()).decode()
    row = Checkpoint.objects.create(
        size=head.size, root=bytes(head.root), at=now, note=note, frontier=bytes(head.frontier)
    )
    head.signed_at = now  # the caller saves the head
    transaction.on_commit(lambda: remember_outside(note))
    return row


def outside_path() -> Path:
    """CONTACTPOINT_AUDIT_CHECKPOINT_FILE, by default $DATA_DIR/audit/checkpoints.jsonl."""
    return config.audit_checkpoint_file()


def remember_outside(note: str) -> None:
    """Append a checkpoint to the file outside the database: one JSON line per checkpoint,
    never rewritten, so a database restored from an old copy cannot take back what was
    signed (contactpoint audit verify checks the log against every line)."""
    path = outside_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    line = json.dumps({"note": note}) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, line.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def outside_notes() -> list[tuple[str, bytes]]:
    """The checkpoints kept outside the database, each with where it is (line number)."""
    path = outside_path()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return []
    found = []
    for n, line in enumerate(lines, 1):
        try:
            note = json.loads(line)["note"].encode()
        except (ValueError, KeyError, TypeError, AttributeError):
            note = b""  # verify reports it as not validly signed
        found.append((f"the checkpoint on line {n:,} of {path}", note))
    return found
