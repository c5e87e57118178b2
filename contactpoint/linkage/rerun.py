"""Re-run bulk linkage over the whole registry and apply what it finds, conservatively.

Splink clusters every source record (bulk.py). Against the registry as it stands:

- a waiting record whose cluster holds exactly one child is linked to that child;
- two or more children in one cluster are merged into the oldest, whose contactpoint ID
  stays (the others' IDs are never issued again), unless any is shielded or sealed, or
  they are blocked from each other: those are left for a person;
- a child whose records fall into several clusters is counted as a possible split and
  left alone, and never merged: splitting is a person's decision (`review unlink`);
- records waiting because two children came close (review reasons runner_up, several), or
  too thin to match safely (insufficient), stay with the person asked (`linkage run`
  then matches the thin ones again in real time, rematch.py);
- a child holding a record a person placed is never merged by a re-run;
- held records (might be a shielded child) and clusters with two different valid
  identifiers are never touched.

A child who has not really changed is never renumbered, and every link and merge is
recorded as a decision by the model's version, reversible like any other.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction

from contactpoint.linkage import bulk, review, store
from contactpoint.linkage.corrections import merge
from contactpoint.linkage.inputs import registry_records
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.review_items import open_with_reason
from contactpoint.registry.models import Child, SourceRecord

Progress = Callable[[str], None]
# A person was asked because two children were close, the record is too thin to match
# safely, or it might be a shielded child: a re-run does not answer for them. (The held
# record's clear method is `review` like any waiting record's: only its sealed item says.)
ASKED = frozenset(
    {
        ReviewItem.Reason.RUNNER_UP,
        ReviewItem.Reason.SEVERAL,
        ReviewItem.Reason.INSUFFICIENT,
        ReviewItem.Reason.SHIELDED,
    }
)
Action = LinkDecision.Action


@dataclass
class Plan:
    links: list[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=list)  # record, child
    merges: list[tuple[uuid.UUID, list[uuid.UUID]]] = field(default_factory=list)
    left_for_people: int = 0  # clusters that would merge protected or blocked children
    possible_splits: int = 0
    untrusted: int = 0

    def summary(self) -> str:
        merged = sum(len(gone) for _, gone in self.merges)
        return (
            f"{len(self.links):,} waiting record(s) to link, {len(self.merges):,} merge(s) of "
            f"{merged:,} child(ren), {self.left_for_people:,} cluster(s) left for a person "
            f"(shielded, sealed or blocked), {self.possible_splits:,} possible split(s) and "
            f"{self.untrusted:,} cluster(s) with conflicting identifiers left alone"
        )


def plan(progress: Progress | None = None) -> Plan:
    """Work out what a re-run would change, changing nothing."""
    active = store.active()
    # As real-time matching applies it: a model stored without term frequencies (the
    # bootstrap) is applied without them, as the bulk first load does.
    result = bulk.link(
        registry_records(), store.splink_model(active), active.upper, active.lower, progress
    )
    records = {
        str(sr): (child, method)
        for sr, child, method in SourceRecord.objects.values_list("id", "child_id", "method")
    }
    decided = {child for child, method in records.values() if method == "person"}
    members: dict[str, list[str]] = defaultdict(list)
    for record, cluster in result.clusters.items():
        members[cluster].append(record)
    children = {c.pk: c for c in Child.objects.only("id", "status", "created_at", "cpid")}
    clusters_of_child: dict[uuid.UUID, set[str]] = defaultdict(set)
    for record, cluster in result.clusters.items():
        if (child := records[record][0]) is not None:
            clusters_of_child[child].add(cluster)
    split = {child for child, clusters in clusters_of_child.items() if len(clusters) > 1}
    asked = {str(sr) for _, sr in open_with_reason(ASKED)}
    found = Plan(untrusted=len(result.untrusted), possible_splits=len(split))
    for cluster, ids in members.items():
        if cluster not in result.untrusted:
            entries = [(*records[i], i) for i in ids if i not in asked]
            _plan_cluster(found, entries, children, split | decided)
    return found


def _plan_cluster(
    found: Plan,
    entries: Sequence[tuple[uuid.UUID | None, str, str]],
    children: dict[uuid.UUID, Child],
    fixed: set[uuid.UUID],
) -> None:
    """Plan one cluster; `fixed` children (a possible split, or holding a record a person
    placed) are never merged."""
    linked = {child for child, _, _ in entries if child is not None}
    waiting = [uuid.UUID(i) for child, _, i in entries if child is None]
    if not linked or (linked & fixed and len(linked) > 1):
        # No child (the review queue has them), or a merge that would chain through a
        # child whose own records disagree.
        found.left_for_people += bool(linked)
        return
    ordered = sorted((children[c] for c in linked), key=lambda c: (c.created_at, str(c.pk)))
    keep, gone = ordered[0], ordered[1:]
    if gone:
        protected = any(c.shielded or c.status != Child.Status.ACTIVE for c in ordered)
        if protected or review.blocked_pairs(linked):
            found.left_for_people += 1
            return
        found.merges.append((keep.pk, [g.pk for g in gone]))
    found.links += [(record, keep.pk) for record in waiting]


def apply(found: Plan) -> None:
    """Carry out a plan: each link and each merge in its own transaction."""
    by = LinkDecision.AUTOMATIC
    cpids = dict(Child.objects.values_list("id", "cpid"))
    for keep, gone in found.merges:
        for other in gone:
            merge(cpids[keep], cpids[other], by)
    for record, child in found.links:
        with transaction.atomic():
            sr = SourceRecord.objects.select_for_update().get(pk=record)
            if sr.child_id is not None:
                continue  # linked meanwhile, by a load or a person
            review.close_items_of(sr)
            review.move([sr], child, method="model")
            review.decide(Action.AUTO_LINK, by, sr=sr, child=child)
