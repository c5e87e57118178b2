"""Decisions about whole children, and undoing any decision (docs/review.md).

Merge, unmerge, identity change and reverse: each one transaction, checked before it
changes anything, recorded as a LinkDecision with the person and the active model. A
cpid is never issued again: a merged child keeps its row, status merged, and points at
the child it became; a sealed child keeps its row too. Each writes its audit event
(`linkage:review:<decision>`) before it changes anything, as review.py's decisions do.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

from django.db import transaction

from contactpoint.linkage.models import LinkBlock, LinkDecision
from contactpoint.linkage.review import (
    Action,
    ReviewError,
    audited,
    blocked_pairs,
    by_id,
    child_by_cpid,
    close_items_of,
    decide,
    move,
    parse_id,
    person,
    record_blocks,
    take_off,
)
from contactpoint.registry import children, origins, shield_tags
from contactpoint.registry.models import Child, SourceRecord

Status = Child.Status


def merge(keep_cpid: str, gone_cpid: str, by: str) -> LinkDecision:
    """Move every record of GONE to KEEP; GONE becomes merged into KEEP.

    Refused when the two are blocked from each other (an identity change). If either was
    shielded, KEEP is shielded.
    """
    by = person(by)
    with transaction.atomic():
        keep, gone = child_by_cpid(keep_cpid), child_by_cpid(gone_cpid)
        if keep.pk == gone.pk:
            raise ReviewError("a child cannot be merged with itself")
        _mergeable(keep, gone)
        audited("merge", keep.pk, other_child=gone.pk)
        return _merge(keep, gone, by, reverses=None)


def unmerge(decision_id: str, by: str) -> LinkDecision:
    """Undo a merge: move back exactly the records it moved; GONE is active again."""
    by = person(by)
    with transaction.atomic():
        decision = _decision(decision_id)
        if decision.action != Action.MERGE:
            raise ReviewError(f"decision {decision.pk} is a {decision.action}, not a merge")
        audited(
            "unmerge", decision.child_id, other_child=decision.other_child_id, decision=decision.pk
        )
        return _unmerge(decision, by)


def identity_change(cpid: str, by: str, record_ids: Sequence[str] = ()) -> tuple[LinkDecision, str]:
    """Give a child a new identity (adoption, protected identity) and seal the old one.

    A new child (new cpid) receives the records named, by default each source's newest
    linked record of the old child (the newest as-at date; all of them on a tie). The old
    child is sealed, and the two are blocked from each other for good.

    Returns:
        The decision and the new child's cpid.
    """
    by = person(by)
    with transaction.atomic():
        old = child_by_cpid(cpid)
        if old.status != Status.ACTIVE:
            raise ReviewError(f"{old.cpid} is {old.status}: only an active child can change")
        records = _chosen(old, record_ids)
        new_id = uuid.uuid4()
        audited("identity-change", old.pk, new_child=new_id, records=len(records))
        new, _ = children.create_children([new_id])[0]
        if old.shielded:
            shield_tags.shield([new.pk])
        move(records, new.pk)
        Child.objects.filter(pk=old.pk).update(status=Status.SEALED)
        decision = decide(
            Action.IDENTITY_CHANGE, by, child=new.pk, other=old.pk, moved=[r.pk for r in records]
        )
        LinkBlock.objects.create(
            child=old, other_child=new, reason=LinkBlock.Reason.IDENTITY_CHANGE, decision=decision
        )
        return decision, new.cpid


def reverse(decision_id: str, by: str) -> LinkDecision:
    """Undo any decision, a person's or the model's, by its inverse; at most once."""
    by = person(by)
    with transaction.atomic():
        decision = _decision(decision_id)
        inverse = _INVERSES.get(decision.action)
        if inverse is None:
            raise ReviewError("a hold is undone by deciding its review item")
        if decision.reverses_id and decision.action in (Action.NOT_A_MATCH, Action.IDENTITY_CHANGE):
            raise ReviewError(f"decision {decision.pk} undid another: make that decision again")
        audited(
            "reverse",
            decision.child_id or decision.other_child_id,
            decision=decision.pk,
            reverses=decision.action,
            source_record=decision.source_record_id,
        )
        return inverse(decision, by)


# --- the inverses ------------------------------------------------------------------------


def _take_back(decision: LinkDecision, by: str) -> LinkDecision:
    """Undo a link (the model's or a person's) or a new child: the record waits again."""
    sr = _still(decision, decision.child_id)
    unlinked, _ = take_off(sr, by, reverses=decision)
    return unlinked


def _put_back(decision: LinkDecision, by: str) -> LinkDecision:
    """Undo an unlink: the record goes back to the child it came from."""
    sr = _still(decision, None)
    came_from = decision.other_child_id
    child = Child.objects.select_for_update().filter(id=came_from).first() if came_from else None
    if child is None or child.status not in (Status.ACTIVE, Status.SEALED):
        raise ReviewError("the child the record came from can no longer take records")
    if child.pk in record_blocks(sr.pk):
        raise ReviewError(f"{child.cpid} was marked not a match for this record since")
    move([sr], child.pk, SourceRecord.Method.PERSON, 1.0)
    close_items_of(sr)
    return decide(Action.LINK, by, sr=sr, child=child.pk, reverses=decision)


def _unblock(decision: LinkDecision, by: str) -> LinkDecision:
    """Withdraw a not-a-match: the matcher may propose that child again."""
    LinkBlock.objects.filter(decision=decision).delete()
    return decide(
        Action.NOT_A_MATCH,
        by,
        sr=decision.source_record,
        child=decision.child_id,
        reverses=decision,
    )


def _remerge(decision: LinkDecision, by: str) -> LinkDecision:
    """Undo an unmerge: merge the two children again."""
    keep, gone = _pair(decision)
    _mergeable(keep, gone)
    return _merge(keep, gone, by, reverses=decision)


def _restore_identity(decision: LinkDecision, by: str) -> LinkDecision:
    """Undo an identity change: the records go back, the old child is active again and the
    new one is merged into it (its cpid then leads to the old one)."""
    new, old = _pair(decision)
    moved = _moved(decision, new)
    if SourceRecord.objects.filter(child=new).count() != len(moved):
        raise ReviewError(f"{new.cpid} has records of its own since: move them first")
    move(moved, old.pk)
    Child.objects.filter(pk=old.pk).update(status=Status.ACTIVE)
    Child.objects.filter(pk=new.pk).update(status=Status.MERGED, merged_into=old)
    LinkBlock.objects.filter(decision=decision).delete()
    return decide(
        Action.IDENTITY_CHANGE,
        by,
        child=new.pk,
        other=old.pk,
        moved=[r.pk for r in moved],
        reverses=decision,
    )


_INVERSES: dict[str, Callable[[LinkDecision, str], LinkDecision]] = {
    Action.AUTO_LINK: _take_back,
    Action.LINK: _take_back,
    Action.NEW_CHILD: _take_back,
    Action.UNLINK: _put_back,
    Action.NOT_A_MATCH: _unblock,
    Action.MERGE: lambda d, by: _unmerge(d, by),
    Action.UNMERGE: _remerge,
    Action.IDENTITY_CHANGE: _restore_identity,
}


# --- shared steps ------------------------------------------------------------------------


def _mergeable(keep: Child, gone: Child) -> None:
    if frozenset((keep.pk, gone.pk)) in blocked_pairs([keep.pk]):
        raise ReviewError(
            f"{keep.cpid} and {gone.cpid} are one child's old and new identity: "
            "they are never merged"
        )
    for child in (keep, gone):
        if child.status != Status.ACTIVE:
            raise ReviewError(f"{child.cpid} is {child.status}: only active children merge")


def _merge(keep: Child, gone: Child, by: str, reverses: LinkDecision | None) -> LinkDecision:
    records = list(SourceRecord.objects.select_for_update().filter(child=gone))
    move(records, keep.pk)
    if gone.shielded:
        shield_tags.shield([keep.pk])
    Child.objects.filter(pk=gone.pk).update(status=Status.MERGED, merged_into=keep)
    decision = decide(
        Action.MERGE,
        by,
        child=keep.pk,
        other=gone.pk,
        moved=[r.pk for r in records],
        reverses=reverses,
    )
    _carry_blocks(gone, keep, decision)
    return decision


def _carry_blocks(gone: Child, keep: Child, decision: LinkDecision) -> None:
    """What was never GONE is never KEEP either; an unmerge drops these copies again."""
    copies = [
        LinkBlock(
            child=keep,
            source_record_id=b.source_record_id,
            other_child_id=b.other_child_id,
            reason=b.reason,
            decision=decision,
        )
        for b in LinkBlock.objects.filter(child=gone)
    ] + [
        LinkBlock(child_id=b.child_id, other_child=keep, reason=b.reason, decision=decision)
        for b in LinkBlock.objects.filter(other_child=gone)
    ]
    LinkBlock.objects.bulk_create(copies)


def _unmerge(decision: LinkDecision, by: str) -> LinkDecision:
    keep, gone = _pair(decision)
    if gone.status != Status.MERGED or gone.merged_into_id != keep.pk:
        raise ReviewError(f"{gone.cpid} is no longer merged into {keep.cpid}")
    moved = _moved(decision, keep)
    move(moved, gone.pk)
    Child.objects.filter(pk=gone.pk).update(status=Status.ACTIVE, merged_into=None)
    LinkBlock.objects.filter(decision=decision).delete()
    return decide(
        Action.UNMERGE,
        by,
        child=keep.pk,
        other=gone.pk,
        moved=[r.pk for r in moved],
        reverses=decision,
    )


def _decision(decision_id: str) -> LinkDecision:
    found = by_id(LinkDecision.objects.select_for_update(), decision_id, "decision")
    later = LinkDecision.objects.filter(reverses=found).first()
    if later is not None:
        raise ReviewError(f"decision {found.pk} was already reversed by {later.pk}")
    return found


def _pair(decision: LinkDecision) -> tuple[Child, Child]:
    """The decision's child and other child, both still there."""
    one, other = decision.child_id, decision.other_child_id
    found = {c.pk: c for c in Child.objects.select_for_update().filter(pk__in=[one, other])}
    if one not in found or other not in found:
        raise ReviewError(f"a child of decision {decision.pk} no longer exists")
    return found[one], found[other]


def _moved(decision: LinkDecision, holder: Child) -> list[SourceRecord]:
    """The records the decision moved, all still with `holder`."""
    ids = [uuid.UUID(i) for i in decision.moved]
    records = list(SourceRecord.objects.select_for_update().filter(pk__in=ids, child=holder))
    if len(records) != len(ids):
        raise ReviewError(
            f"some records decision {decision.pk} moved have moved again since: "
            "reverse those decisions first"
        )
    return records


def _still(decision: LinkDecision, child_id: uuid.UUID | None) -> SourceRecord:
    """The decision's record, still where the decision left it."""
    sr_id = decision.source_record_id
    sr = SourceRecord.objects.select_for_update().filter(id=sr_id).first() if sr_id else None
    if sr is None or sr.child_id != child_id:
        raise ReviewError(
            f"the record of decision {decision.pk} has moved since: reverse the later decision"
        )
    return sr


def _chosen(old: Child, record_ids: Sequence[str]) -> list[SourceRecord]:
    """The records named, all linked to `old`; by default each source's newest."""
    linked = list(SourceRecord.objects.select_for_update().filter(child=old, status="linked"))
    if record_ids:
        wanted = {parse_id(r, "source record") for r in record_ids}
        chosen = [r for r in linked if r.pk in wanted]
        if len(chosen) != len(wanted):
            raise ReviewError(f"every record named must be linked to {old.cpid}")
        return chosen
    source_of = origins.of_records(linked)
    linked = [r for r in linked if r.pk in source_of]  # none if the child's key is gone
    newest: dict[int, dt.date] = {}
    for r in linked:
        source = source_of[r.pk]
        newest[source] = max(newest.get(source, r.as_at), r.as_at)
    chosen = [r for r in linked if r.as_at == newest[source_of[r.pk]]]
    if not chosen:
        raise ReviewError(f"{old.cpid} has no linked records to give a new identity")
    return chosen
