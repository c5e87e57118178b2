"""The audit log's rows: events (the tree's leaves, in order), the log's head and its
signed checkpoints (docs/audit.md).

An event's columns are what oversight queries (who, role, organisation, action, outcome,
when, and which child by a keyed tag of its internal id); what else it records (the child's
id, the fields shown) is sealed under the month's audit key. The leaf is a salted
commitment to all of it: the salt is sealed too, so the commitment says nothing about a
low-entropy event, and destroying the month's key (crypto-shredding) leaves every proof
intact.
"""

from __future__ import annotations

import uuid

from django.db import models


class Event(models.Model):
    """One audited access: the leaf at `index` of the log's Merkle tree."""

    class Outcome(models.TextChoices):
        ALLOWED = "allowed", "Allowed"
        REFUSED = "refused", "Refused"

    index = models.BigIntegerField(primary_key=True)  # 0, 1, 2, ... with no gap
    at = models.DateTimeField(db_index=True)
    action = models.CharField(
        max_length=60
    )  # "<source>:<subject>:<action>", e.g. child:record:view
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    principal = models.CharField(max_length=60, db_index=True)  # user:<id>, client:<id>, ""
    role = models.CharField(max_length=40, blank=True)
    organisation_id = models.BigIntegerField(null=True, db_index=True)
    purpose = models.CharField(max_length=40, blank=True)
    # HMAC of the child's internal id under an index-derived key (log.child_tag), never the
    # id: a stolen database does not say which child's shielding or emergency access it was.
    child_tag = models.BinaryField(max_length=16, null=True, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    # What the application knew of the child when it wrote the event, for misuse detection
    # (contactpoint.oversight.signals): e.g. "involved,same_surname". Never a value.
    signals = models.CharField(max_length=120, blank=True, default="")
    period = models.CharField(max_length=7)  # YYYY-MM: the audit key `sealed` is under
    sealed = models.BinaryField(null=True)  # salt and details; None once shredded
    commitment = models.BinaryField()  # SHA-256(salt || canonical event): the leaf's data

    @property
    def child_id(self) -> uuid.UUID | None:
        """The child the event is about, its sealed body opened (a key-store read each
        time: for many events, log.children_of opens them together)."""
        from contactpoint.audit.log import children_of

        return children_of([self]).get(self.index)


class Head(models.Model):
    """The log after its last append: size, root and the frontier the next append needs."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    size = models.BigIntegerField(default=0)
    frontier = models.BinaryField(default=b"")  # the frontier's hashes, concatenated
    root = models.BinaryField()
    signed_at = models.DateTimeField(null=True)  # the last checkpoint's time


class Checkpoint(models.Model):
    """A signed statement of the tree's size and root (a C2SP signed note)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    size = models.BigIntegerField(db_index=True)
    root = models.BinaryField()
    at = models.DateTimeField(db_index=True)
    note = models.TextField()
    # The tree's frontier at `size`: a proof from here to a later size then reads only the
    # events since (merkle.consistency_proof_from). None on checkpoints signed before it
    # was kept; a proof from one of those reads every event.
    frontier = models.BinaryField(null=True)
