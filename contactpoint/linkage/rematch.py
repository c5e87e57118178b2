"""Match again the records waiting as too thin to match safely, against the registry as it
now stands.

A record too thin to found a child (realtime.too_thin) waits for a person as
`insufficient`. When its file loads before the file holding the same child's full record,
it waits with no candidate, and the full record, finding no child, founds one. At the end
of every load and of `linkage run`, each open `insufficient` item is matched again by the
real-time matcher, under its own rules (the same thresholds; never a new child; never a
shielded or sealed child without a person; twins kept apart; a child a person ruled out
never offered again):

- the model links it: the record joins the child, its item is closed, and the link is a
  decision by the model (`auto_link`, with its weight), reversible like any other;
- the model would link it to a shielded or sealed child (which the real-time matcher
  does when it is that very child): it waits, with that child added to its item;
- otherwise the children it finds now that the item does not list yet are added to the
  item as candidates, for the index team;
- otherwise it waits as it was.

Each batch of items is one transaction, so a run killed part-way keeps what it did and a
second run finds nothing more to do: a linked record's item is closed, and a candidate
already listed is never added again.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.db import transaction

from contactpoint.linkage import review
from contactpoint.linkage.models import LinkDecision, ReviewItem
from contactpoint.linkage.realtime import Candidate, Match, Matcher, scores_for
from contactpoint.linkage.records import LinkRecord, from_feed
from contactpoint.linkage.relink import owner_of
from contactpoint.linkage.review_items import ReviewCandidate, about, open_with_reason, reseal
from contactpoint.linkage.scorer import probability
from contactpoint.registry import payloads, shield_tags
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import Child, SourceRecord

Progress = Callable[[str], None]
BATCH = 200  # items matched, and committed, at once


@dataclass
class Rematched:
    waiting: int = 0  # open `insufficient` items matched again
    linked: int = 0
    given_candidates: int = 0  # items that now list children they did not
    candidates_added: int = 0
    unopened: int = 0  # records whose payload can no longer be opened (their key is gone)

    def summary(self) -> str:
        still = self.waiting - self.linked
        line = (
            f"{self.waiting:,} record(s) waiting as too thin matched again: "
            f"{self.linked:,} linked, {self.given_candidates:,} given "
            f"{self.candidates_added:,} new candidate(s), {still:,} still waiting"
        )
        if self.unopened:
            line += f"; {self.unopened:,} could not be opened (their data key is gone)"
        return line


def rematch(progress: Progress | None = None, dry_run: bool = False) -> Rematched:
    """Match every open `insufficient` item again, a batch per transaction.

    Args:
        progress: told the counts so far after each batch.
        dry_run: work out what would change and roll every batch back.

    Returns:
        The counts.
    """
    found = Rematched()
    pending = [item for item, _ in open_with_reason({ReviewItem.Reason.INSUFFICIENT})]
    if not pending:
        return found
    matcher = Matcher()
    for start in range(0, len(pending), BATCH):
        ids = pending[start : start + BATCH]
        with transaction.atomic():
            _batch(ids, matcher, found)
            if dry_run:
                transaction.set_rollback(True)
        if progress:
            progress(f"rematch: {found.summary()}")
    return found


def _batch(ids: list[uuid.UUID], matcher: Matcher, found: Rematched) -> None:
    """Match these items' records again and act on what the matcher says."""
    items = list(
        ReviewItem.objects.filter(
            pk__in=ids, status=ReviewItem.Status.OPEN, source_record__child__isnull=True
        )
        .select_related("source_record")
        .select_for_update()
    )
    opened = _opened([i.source_record for i in items])
    found.unopened += len(items) - len(opened)
    items = [i for i in items if i.source_record_id in opened]
    if not items:
        return
    entries = [
        (sr, opened[sr], from_feed(str(sr), opened[sr]))
        for sr in (i.source_record_id for i in items)
    ]
    found.waiting += len(items)
    matches = matcher.match(entries)
    protected = _protected({m.child_id for m in matches if m.action == "link" and m.child_id})
    for item, match, (_, _, link) in zip(items, matches, entries, strict=True):
        if match.action == "link" and match.child_id in protected:
            match = _held(match.child_id, link)
        if match.action == "link" and match.child_id is not None:
            _link(item, match.child_id, match.weight)
            found.linked += 1
        elif match.action in ("review", "hold"):
            # Held (a shielded or sealed child near): never linked, the index team sees
            # the children. A match that would make a new child lists only children far
            # below the review band: none is worth a person's time.
            added = _add_candidates(item, match)
            found.given_candidates += bool(added)
            found.candidates_added += added


def _protected(child_ids: set[uuid.UUID]) -> set[uuid.UUID]:
    """The shielded or sealed children among these."""
    sealed = Child.objects.filter(id__in=list(child_ids), status=Child.Status.SEALED)
    return shield_tags.shielded_among(child_ids) | set(sealed.values_list("id", flat=True))


def _held(child: uuid.UUID, link: LinkRecord) -> Match:
    """The real-time matcher links a record to the shielded or sealed child it surely is;
    a record that waited is put beside that child for the index team instead: a wrong
    link to a shielded child is the costliest mistake linkage makes, and the record,
    having waited, can wait for a person."""
    scores = scores_for(link, {child})
    candidates = [Candidate(c, score, True, link) for c, score in scores.items()]
    return Match("hold", reason="shielded", candidates=candidates)


def _opened(records: list[SourceRecord]) -> dict[uuid.UUID, FeedRecord]:
    """The waiting records' payloads, opened under their own keys (one whose key is gone is
    left out)."""
    ciphers = ciphers_for({owner_of(sr) for sr in records})
    found = {}
    for sr in records:
        cipher = ciphers.get(owner_of(sr))
        body = payloads.open_payload(cipher, sr.pk, sr.payload) if cipher else None
        if body is not None:
            found[sr.pk] = FeedRecord.from_canonical(json.loads(body))
    return found


def _link(item: ReviewItem, child: uuid.UUID, weight: float | None) -> None:
    """Link the item's record to the child as a load's model link is recorded."""
    sr = item.source_record
    review.close(item)
    sure = probability(weight) if weight is not None else 0.0
    review.move([sr], child, method="model", confidence=sure)
    review.decide(
        LinkDecision.Action.AUTO_LINK, LinkDecision.AUTOMATIC, sr=sr, child=child, weight=weight
    )


def _add_candidates(item: ReviewItem, match: Match) -> int:
    """Add the matcher's candidates the item does not list yet. Returns how many."""
    opened = about(item)
    listed = opened.child_ids()
    new = [
        ReviewCandidate.for_score(c.child_id, c.score)
        for c in match.candidates
        if c.child_id not in listed
    ]
    if new:
        reseal(item, replace(opened, candidates=(*opened.candidates, *new)))
    return len(new)
