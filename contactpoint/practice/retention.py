"""Retention, enforced by the service (docs/retention.md): archive, forget, purge.

`run(today)` does three steps, each in batches that are each one transaction, so a crash
loses nothing and running it again finishes the job; running it twice changes nothing
the second time; a dry run counts exactly what a run would do:

1. remove involvements that ended 12 months ago or more from the records of active
   children (an archived record stays as it was when archived, for its local index team
   and statutory reviews);
2. archive every active child who is 18 (25 with an extension the local index team
   recorded): in the month after the birthday, so neither the archive date nor the audit
   event's time tells the day of birth. Dates of birth are opened a batch at a time and
   not kept;
3. purge children archived six years ago or more: the child's data key is destroyed
   (crypto-shredding), so the database, its WAL and every backup forget the child; the
   blind-index entries (keyed digests, not under the child's key) are deleted; the row
   stays, status "purged", so its contactpoint ID is never reused or processed again.

Each archive, removal and purge writes its audit event (no principal; the operator is
"retention") in the change's transaction and before it. Reports count, never name.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction

from contactpoint.access.standing import add_months
from contactpoint.audit import log as audit_log
from contactpoint.keystore import service as keys
from contactpoint.practice.models import Finding
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.models import BlindIndexEntry, Child, ChildDemographic, Involvement

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
        batch = list(active.values_list("id", "retention_extension")[:batch_size])
        if not batch:
            return archived, unknown
        after = batch[-1][0]
        due, not_known = _due(batch, today)
        unknown += not_known
        archived += len(due) if dry_run else _archive(due, today)
        checked += len(batch)
        if progress:
            progress("children checked", checked)


def _due(batch: Sequence[tuple[uuid.UUID, str]], today: dt.date) -> tuple[list[uuid.UUID], int]:
    """The children of the batch to archive, and how many have no age to go by. Each date
    of birth is opened, compared and dropped."""
    extension = dict(batch)
    ciphers = ciphers_for(set(extension))
    rows = ChildDemographic.objects.filter(
        child_id__in=list(extension), preferred=True
    ).values_list("id", "child_id", "date_of_birth")
    due: list[uuid.UUID] = []
    known: set[uuid.UUID] = set()
    for pk, child_id, sealed in rows:
        cipher = ciphers.get(child_id)
        # A fact without a date of birth holds NULL (a record loaded without one).
        raw = bytes(sealed) if sealed is not None else None
        iso = cipher.open(ChildDemographic, "date_of_birth", pk, raw) if cipher else None
        if not iso:
            continue
        known.add(child_id)
        if archive_due(dt.date.fromisoformat(iso), today, extension[child_id]):
            due.append(child_id)
    return due, len(extension) - len(known)


def _archive(due: list[uuid.UUID], today: dt.date) -> int:
    if not due:
        return 0
    with transaction.atomic():
        ids = _lock(due, Child.Status.ACTIVE)
        audit_log.append_many([_event(ARCHIVE, c) for c in ids])
        Child.objects.filter(id__in=ids).update(status=Child.Status.ARCHIVED, archived_on=today)
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
            # Its alerts, handovers, contact requests and family notice go with it.
            Involvement.objects.filter(id__in=[pk for pk, _ in batch]).delete()
        removed += len(batch)
        if progress:
            progress("involvements removed", removed)
    return removed


def _purge_all(today: dt.date, dry_run: bool, batch_size: int, progress: Progress | None) -> int:
    due = Child.objects.filter(
        status=Child.Status.ARCHIVED, archived_on__lte=add_months(today, -PURGE_MONTHS)
    )
    if dry_run:
        return due.count()
    purged = 0
    while batch := list(due.order_by("id").values_list("id", flat=True)[:batch_size]):
        purged += _purge(batch)
        if progress:
            progress("purged", purged)
    return purged


def _purge(batch: list[uuid.UUID]) -> int:
    with transaction.atomic():
        ids = _lock(batch, Child.Status.ARCHIVED)
        audit_log.append_many([_event(PURGE, c) for c in ids])
        BlindIndexEntry.objects.filter(child_id__in=ids).delete()
        Finding.objects.filter(child_id__in=ids).delete()
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
