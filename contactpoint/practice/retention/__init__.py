"""Retention, enforced by the service (docs/retention.md): archive, forget, purge.

`run(today)` does three steps, each in batches that are each one transaction, so a crash
loses nothing and running it again finishes the job; running it twice changes nothing
the second time; a dry run counts exactly what a run would do:

1. remove involvements that ended 12 months ago or more from the records of active
   children (an archived record stays as it was when archived, for its local index team
   and statutory reviews);
2. archive every active child who is 18 (25 with an extension the local index team
   recorded): in the month after the birthday, so neither the archive date nor the audit
   event's time tells the day of birth. Dates of birth (and extensions, sealed) are opened
   a batch at a time and not kept; the archive day is sealed, its quarter in clear;
3. purge children archived six years ago or more, selected on the archive's quarter (only
   the cut-off's own quarter has its archive days opened): the child's data key is destroyed
   (crypto-shredding), so the database, its WAL and every backup forget the child; the
   blind-index entries (keyed digests, not under the child's key), its alerts and its
   handovers (sealed under index-derived keys) are deleted; the row
   stays, status "purged", so its contactpoint ID is never reused or processed again.

A run also deletes every finding older than FINDING_LASTS (it opens no record any more).
Findings name no child (a keyed digest of child and principal), so a purge cannot pick a
child's out; a purged child, archived six years before and found only while active, has
none younger.

Each archive, removal and purge writes its audit event (no principal; the operator is
"retention") in the change's transaction and before it. Reports count, never name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from contactpoint.access.standing import add_months
from contactpoint.audit import log as audit_log
from contactpoint.keystore import service as keys
from contactpoint.practice.involvements import alerts, contact_requests, handovers
from contactpoint.practice.models import Finding
from contactpoint.practice.record import FINDING_LASTS
from contactpoint.registry import record_facts, retention_facts
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import BlindIndexEntry, Child, Involvement

BATCH = 2000
ADULT = 18
EXTENDED = 25  # care leavers, and young people with special educational needs who consent
REMOVE_ENDED_MONTHS = 12
PURGE_MONTHS = 6 * 12
ARCHIVE = "retention:child:archive"
PURGE = "retention:child:purge"
REMOVE = "retention:involvement:remove"
OPERATOR = {"operator": "retention"}

Progress = Callable[[str, int], None]  # step name, how many done so far in that step


@dataclass(frozen=True)
class Report:
    archived: int
    # Active children whose age cannot be told (no date of birth, or no data key).
    age_unknown: int
    involvements_removed: int
    purged: int


def run(
    today: dt.date,
    *,
    dry_run: bool = False,
    batch_size: int = BATCH,
    progress: Progress | None = None,
) -> Report:
    """Archive, remove and purge as of `today`; with dry_run, count and change nothing.

    Raises:
        AuditUnavailable: an event could not be written; that batch changed nothing and
            every batch before it is kept.
    """
    removed = _remove_ended(today, dry_run, batch_size, progress)
    archived, unknown = _archive_all(today, dry_run, batch_size, progress)
    purged = _purge_all(today, dry_run, batch_size, progress)
    if not dry_run:
        Finding.objects.filter(found_at__lte=timezone.now() - FINDING_LASTS).delete()
    return Report(archived, unknown, removed, purged)


def archive_age(extension: str) -> int:
    return EXTENDED if extension else ADULT


def archive_due(born: dt.date, today: dt.date, extension: str = "") -> bool:
    """Whether a child born on `born` is archived by `today`: from the first day of the
    month after the birthday that makes them 18 (25 with an extension)."""
    return today >= add_months(birthday(born, archive_age(extension)).replace(day=1), 1)


def birthday(born: dt.date, age: int) -> dt.date:
    """The day a person born on `born` turns `age` (1 March for 29 February)."""
    try:
        return born.replace(year=born.year + age)
    except ValueError:
        return dt.date(born.year + age, 3, 1)


def _archive_all(
    today: dt.date, dry_run: bool, batch_size: int, progress: Progress | None
) -> tuple[int, int]:
    archived = unknown = checked = 0
    after: uuid.UUID | None = None
    while True:
        active = Child.objects.filter(status=Child.Status.ACTIVE).order_by("id")
        if after is not None:
            active = active.filter(id__gt=after)
        batch = [(c, _bytes(e)) for c, e in active.values_list("id", "extension")[:batch_size]]
        if not batch:
            return archived, unknown
        after = batch[-1][0]
        ciphers = ciphers_for({child for child, _ in batch})
        due, not_known = _due(batch, ciphers, today)
        unknown += not_known
        if not dry_run:
            retention_facts.fill_extensions(ciphers, (c for c, sealed in batch if sealed is None))
        archived += len(due) if dry_run else _archive(due, ciphers, today)
        checked += len(batch)
        if progress:
            progress("children checked", checked)


def _bytes(sealed: bytes | memoryview | None) -> bytes | None:
    """A sealed column as read (PostgreSQL gives a memoryview)."""
    return None if sealed is None else bytes(sealed)


def _due(
    batch: Sequence[tuple[uuid.UUID, bytes | None]],
    ciphers: dict[uuid.UUID, ChildCipher],
    today: dt.date,
) -> tuple[list[uuid.UUID], int]:
    """The children of the batch to archive, and how many have no age to go by. Each date
    of birth and extension is opened, compared and dropped."""
    extension = {
        child: retention_facts.open_extension(ciphers[child], sealed)
        for child, sealed in batch
        if child in ciphers
    }
    stated = record_facts.opened(list(extension), ciphers, preferred_only=True)
    due: list[uuid.UUID] = []
    known: set[uuid.UUID] = set()
    for child_id, records in stated.items():
        birth = record_facts.preferred_of(records, record_facts.Kind.BIRTH)
        # A record loaded without a date of birth gives none.
        if birth is None or birth.record.date_of_birth is None:
            continue
        known.add(child_id)
        if archive_due(birth.record.date_of_birth, today, extension[child_id]):
            due.append(child_id)
    return due, len(batch) - len(known)


def _archive(due: list[uuid.UUID], ciphers: dict[uuid.UUID, ChildCipher], today: dt.date) -> int:
    if not due:
        return 0
    with transaction.atomic():
        ids = _lock(due, Child.Status.ACTIVE)
        audit_log.append_many([_event(ARCHIVE, c) for c in ids])
        retention_facts.archive([ciphers[c] for c in ids], today)
    return len(ids)


def _remove_ended(today: dt.date, dry_run: bool, batch_size: int, progress: Progress | None) -> int:
    ended = Involvement.objects.filter(
        end_date__lte=add_months(today, -REMOVE_ENDED_MONTHS), child__status=Child.Status.ACTIVE
    )
    if dry_run:
        return ended.count()
    removed = 0
    while batch := list(ended.order_by("id").values_list("id", "child_id")[:batch_size]):
        with transaction.atomic():
            audit_log.append_many(
                [_event(REMOVE, child, involvement=str(pk)) for pk, child in batch]
            )
            # Its handovers, contact requests, their alerts and its own go with it (they
            # name it sealed, so nothing cascades), and its family notice.
            ended_ids, children = [pk for pk, _ in batch], {child for _, child in batch}
            asked = contact_requests.forget(ended_ids)
            handed = handovers.forget(children, ended_ids)
            alerts.forget(children, gone=[*ended_ids, *asked, *handed])
            Involvement.objects.filter(id__in=ended_ids).delete()
        removed += len(batch)
        if progress:
            progress("involvements removed", removed)
    return removed


def _purge_all(today: dt.date, dry_run: bool, batch_size: int, progress: Progress | None) -> int:
    cutoff = add_months(today, -PURGE_MONTHS)
    archived = Child.objects.filter(status=Child.Status.ARCHIVED)
    # Archived in a quarter wholly before the cut-off's: due, without opening anything.
    due = archived.filter(archived_quarter__lt=retention_facts.quarter(cutoff))
    edge = _due_in_quarter(archived, cutoff, batch_size)
    if dry_run:
        return due.count() + sum(len(batch) for batch in edge)
    purged = 0
    while batch := list(due.order_by("id").values_list("id", flat=True)[:batch_size]):
        purged += _purge(batch)
        if progress:
            progress("purged", purged)
    for batch in filter(None, edge):
        purged += _purge(batch)
        if progress:
            progress("purged", purged)
    return purged


def _due_in_quarter(
    archived: QuerySet[Child], cutoff: dt.date, batch_size: int
) -> Iterator[list[uuid.UUID]]:
    """The children archived in the cut-off's quarter on or before the cut-off, a batch at
    a time: their sealed archive days are opened (one without a key or a day is due)."""
    after: uuid.UUID | None = None
    while True:
        edge = archived.filter(archived_quarter=retention_facts.quarter(cutoff)).order_by("id")
        if after is not None:
            edge = edge.filter(id__gt=after)
        batch = [(c, _bytes(d)) for c, d in edge.values_list("id", "archived_day")[:batch_size]]
        if not batch:
            return
        after = batch[-1][0]
        ciphers = ciphers_for({child for child, _ in batch})
        # A child whose key is gone already (a backup restored after its purge) has
        # nothing left to open: it is purged again.
        yield [
            child
            for child, sealed in batch
            if child not in ciphers
            or (day := retention_facts.open_day(ciphers[child], sealed)) is None
            or day <= cutoff
        ]


def _purge(batch: list[uuid.UUID]) -> int:
    with transaction.atomic():
        ids = _lock(batch, Child.Status.ARCHIVED)
        audit_log.append_many([_event(PURGE, c) for c in ids])
        BlindIndexEntry.objects.filter(child_id__in=ids).delete()
        # What the child's alerts and handovers name is sealed, but not under its key.
        handovers.forget_children(ids)
        alerts.forget(ids)
        Child.objects.filter(id__in=ids).update(status=Child.Status.PURGED)
        # The key store commits at once, before the registry does: should the registry's
        # commit fail, these children are still "archived" and the next run purges them
        # again (destroying nothing more). The other order could leave a "purged" child
        # whose key was never destroyed.
        keys.destroy_data_keys(ids)
    return len(ids)


def _lock(ids: list[uuid.UUID], status: str) -> list[uuid.UUID]:
    """The children among `ids` still in `status`, locked until the transaction ends."""
    locked = Child.objects.select_for_update().filter(id__in=ids, status=status)
    return list(locked.order_by("id").values_list("id", flat=True))


def _event(action: str, child_id: uuid.UUID, **details: str) -> audit_log.Entry:
    return audit_log.entry(None, action, child_id=child_id, details={**OPERATOR, **details})
