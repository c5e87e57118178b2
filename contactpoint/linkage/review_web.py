"""The review queue as the local index team meets it on the web (docs/review.md, "On the web").

Every read and decision goes through `review` and `corrections`, so their rules hold
(shield safety, blocks, one transaction, the audit event first); this module adds what a
web page needs on top: which items and decisions a signed-in user may see (their area),
who decided (the user, not an operating-system account), why (a `DecisionNote`), and one
more audit event per read or decision naming the user, written in the same transaction
before the service's own event, so a page shows and changes nothing the log does not hold.

A shielded or sealed candidate is never decided here: the web shows it by number only, as
`review show` does, and refuses to link it, mark it not a match or merge it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from contactpoint.access.models import User
from contactpoint.access.permissions import Permission, Principal, Target, decide
from contactpoint.audit import log as audit_log
from contactpoint.linkage import corrections, review
from contactpoint.linkage.models import DecisionNote, LinkDecision, ReviewItem
from contactpoint.linkage.relink import PayloadGone, open_records
from contactpoint.linkage.review import ItemView, Listed, QueueEntry, ReviewError
from contactpoint.linkage.review_items import About, abouts
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Child, Involvement, Organisation, SourceRecord

DECIDE = Permission.AREA_LINKAGE_REVIEW_DECIDE
SHIELDED = "a shielded child: decide through the shielding process, not on the web"


class NotFound(Exception):
    """No such item or decision, or not the user's area's: one answer for both."""


class WhyMissing(ReviewError):
    """The why of a decision is empty or too long."""


@dataclass(frozen=True)
class Decider:
    """A signed-in user deciding: who the audit log and the LinkDecision name."""

    principal: Principal
    user: User

    @property
    def by(self) -> str:
        """The LinkDecision's decided_by: the user's name and key, within its 80 characters."""
        key = f"({self.principal.key})"
        name = " ".join(self.user.name.split())[: 79 - len(key)]
        return f"{name} {key}".strip()


def checked_why(text: str) -> str:
    why = " ".join(text.split())
    if not why:
        raise WhyMissing("enter why you decided this")
    if len(why) > DecisionNote.WHY_LONGEST:
        raise WhyMissing(f"why must be {DecisionNote.WHY_LONGEST} characters or fewer")
    return why


# --- the area rule -----------------------------------------------------------------------


def item_areas(
    items: Iterable[ReviewItem], opened: dict[uuid.UUID, About] | None = None
) -> dict[uuid.UUID, set[str]]:
    """The council areas each item concerns: its waiting record's organisation's, and every
    candidate child's (the areas of the organisations involved with it). `opened`: the
    items' `about`, when the caller has opened them already."""
    items = list(items)
    areas: dict[uuid.UUID, set[str]] = {i.pk: set() for i in items}
    opened = opened if opened is not None else abouts(items)
    candidates = {i.pk: opened[i.pk].child_ids() for i in items}
    of_child = _child_areas(set().union(*candidates.values()))
    for item_id, children in candidates.items():
        for child_id in children:
            areas[item_id] |= of_child.get(child_id, set())
    for item_id, area in _record_areas(items).items():
        areas[item_id].add(area)
    return areas


def _child_areas(child_ids: set[uuid.UUID]) -> dict[uuid.UUID, set[str]]:
    found: dict[uuid.UUID, set[str]] = {}
    for inv in with_links(Involvement.objects.filter(child_id__in=child_ids)):
        if inv.organisation.council_area is not None:
            found.setdefault(inv.child_id, set()).add(inv.organisation.council_area.code)
    return found


def _record_areas(items: list[ReviewItem]) -> dict[uuid.UUID, str]:
    """The area of the organisation each waiting record names (opened, never shown)."""
    records = list(SourceRecord.objects.filter(pk__in=[i.source_record_id for i in items]))
    codes = {pk: code for pk, code in _org_codes(records).items() if code}
    org_areas = dict(
        Organisation.objects.filter(
            code__in=set(codes.values()), council_area__isnull=False
        ).values_list("code", "council_area__code")
    )
    by_record = {pk: org_areas[c] for pk, c in codes.items() if c in org_areas}
    return {i.pk: by_record[i.source_record_id] for i in items if i.source_record_id in by_record}


def _org_codes(records: list[SourceRecord]) -> dict[uuid.UUID, str]:
    """Each record's organisation code; a record that can no longer be opened names none."""
    try:
        return {pk: o.record.org_code for pk, o in open_records(records).items()}
    except PayloadGone:
        if len(records) == 1:
            return {}
        return {k: v for sr in records for k, v in _org_codes([sr]).items()}


def _holds(principal: Principal, areas: Iterable[str]) -> bool:
    return any(decide(principal, DECIDE, Target(area_code=a)) for a in areas)


def _own_item(principal: Principal, item_id: uuid.UUID) -> ReviewItem:
    item = ReviewItem.objects.filter(pk=item_id).first()
    if item is None or not _holds(principal, item_areas([item])[item.pk]):
        raise NotFound("not a review item of your area")
    return item


# --- reading -----------------------------------------------------------------------------


def _audited(decider: Principal, kind: str, child: uuid.UUID | None = None, **ids: Any) -> None:
    details = {k: str(v) for k, v in ids.items() if v is not None}
    audit_log.append(
        audit_log.entry(decider, f"linkage:review-web:{kind}", child_id=child, details=details)
    )


def queue(principal: Principal, reason: str | None = None) -> list[QueueEntry]:
    """The open items of the principal's area, oldest first: ids, reasons and weights."""
    items = list(
        ReviewItem.objects.filter(status=ReviewItem.Status.OPEN).order_by("created_at", "id")
    )
    opened = abouts(items)
    entries = review.entries(items, opened, reason)
    shown = {e.item_id for e in entries}
    areas = item_areas([i for i in items if i.pk in shown], opened)
    _audited(principal, "queue")
    return [e for e in entries if _holds(principal, areas.get(e.item_id, set()))]


def show(principal: Principal, item_id: uuid.UUID) -> ItemView:
    """The item as `review show` shows it, audited as it audits it (after an event naming
    the user): AuditUnavailable, and nothing is returned, when either cannot be written."""
    with transaction.atomic():
        item = _own_item(principal, item_id)
        _audited(principal, "show", review_item=item.pk)
        return review.item_view(str(item.pk))


# --- deciding ----------------------------------------------------------------------------


def _visible(item: ReviewItem, number: int) -> Listed:
    """The item's candidate `number` (as numbered on the page), if it may be decided here."""
    found = review.listed(item)
    if not 1 <= number <= len(found):
        raise ReviewError(f"review item {item.pk} has no candidate {number}")
    candidate = found[number - 1]
    if candidate.child.shielded or candidate.child.status == Child.Status.SEALED:
        raise ReviewError(f"candidate {number} is {SHIELDED}")
    return candidate


def _noted(decision: LinkDecision, decider: Decider, why: str) -> LinkDecision:
    DecisionNote.objects.create(decision=decision, user=decider.user, why=why)
    return decision


def link(decider: Decider, item_id: uuid.UUID, number: int, why: str) -> LinkDecision:
    return _on_candidate(decider, item_id, number, why, "link", review.link)


def not_a_match(decider: Decider, item_id: uuid.UUID, number: int, why: str) -> LinkDecision:
    return _on_candidate(decider, item_id, number, why, "not-a-match", review.not_a_match)


def _on_candidate(
    decider: Decider,
    item_id: uuid.UUID,
    number: int,
    why: str,
    action: str,
    decide: Callable[[str, str, str], LinkDecision],
) -> LinkDecision:
    """A decision on one visible candidate of the decider's own item, audited first."""
    why = checked_why(why)
    with transaction.atomic():
        item = _own_item(decider.principal, item_id)
        child = _visible(item, number).child
        _audited(decider.principal, action, child.pk, review_item=item.pk)
        return _noted(decide(str(item.pk), child.cpid, decider.by), decider, why)


def new_child(decider: Decider, item_id: uuid.UUID, why: str) -> LinkDecision:
    why = checked_why(why)
    with transaction.atomic():
        item = _own_item(decider.principal, item_id)
        _audited(decider.principal, "new-child", review_item=item.pk)
        decision, _ = review.new_child(str(item.pk), decider.by)
        return _noted(decision, decider, why)


def merge_pair(
    principal: Principal, item_id: uuid.UUID, keep: int, gone: int
) -> tuple[Child, Child]:
    """The two candidates a merge from this item would join, checked before it is asked."""
    item = _own_item(principal, item_id)
    if keep == gone:
        raise ReviewError("choose two different candidates to merge")
    return _visible(item, keep).child, _visible(item, gone).child


def merge(decider: Decider, item_id: uuid.UUID, keep: int, gone: int, why: str) -> LinkDecision:
    """Merge two of the item's candidates: GONE's records move to KEEP."""
    why = checked_why(why)
    with transaction.atomic():
        kept, merged = merge_pair(decider.principal, item_id, keep, gone)
        _audited(decider.principal, "merge", kept.pk, other_child=merged.pk, review_item=item_id)
        decision = corrections.merge(kept.cpid, merged.cpid, decider.by)
        return _noted(decision, decider, why)


@dataclass(frozen=True)
class DecisionView:
    decision: LinkDecision
    cpid: str | None  # None: no child, or a shielded or sealed one
    other_cpid: str | None
    note: DecisionNote | None
    may_unmerge: bool


def _cpid(child: Child | None) -> str | None:
    if child is None or child.shielded or child.status == Child.Status.SEALED:
        return None
    return child.cpid


def _own_decision(decider: Decider, decision_id: uuid.UUID) -> DecisionView:
    decision = (
        LinkDecision.objects.select_related("child", "other_child").filter(pk=decision_id).first()
    )
    if decision is None:
        raise NotFound("not a decision of your area")
    note = DecisionNote.objects.filter(decision=decision).first()
    children = {c for c in (decision.child_id, decision.other_child_id) if c}
    areas = set().union(*_child_areas(children).values()) if children else set()
    mine = note is not None and note.user_id == decider.user.pk
    if not mine and not _holds(decider.principal, areas):
        raise NotFound("not a decision of your area")
    cpid, other = _cpid(decision.child), _cpid(decision.other_child)
    open_merge = decision.action == LinkDecision.Action.MERGE and cpid and other
    undone = LinkDecision.objects.filter(reverses=decision).exists()
    return DecisionView(decision, cpid, other, note, bool(open_merge) and not undone)


def decision(decider: Decider, decision_id: uuid.UUID) -> DecisionView:
    """A decision of the user's, or about a child of their area: ids and who and why."""
    view = _own_decision(decider, decision_id)
    _audited(decider.principal, "decision", decision=view.decision.pk)
    return view


def unmerge(decider: Decider, decision_id: uuid.UUID, why: str) -> LinkDecision:
    """Undo a merge of children of the user's area, neither of them shielded."""
    why = checked_why(why)
    with transaction.atomic():
        view = _own_decision(decider, decision_id)
        if view.decision.action != LinkDecision.Action.MERGE:
            raise ReviewError(f"decision {decision_id} is not a merge")
        if not view.cpid or not view.other_cpid:
            raise ReviewError(f"decision {decision_id} is about {SHIELDED}")
        _audited(decider.principal, "unmerge", view.decision.child_id, decision=decision_id)
        return _noted(corrections.unmerge(str(decision_id), decider.by), decider, why)
