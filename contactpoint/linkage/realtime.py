"""Match incoming records against the whole registry, one batch at a time, without Splink.

Candidates come from the blind indexes (the same keys search uses: identifiers, date of
birth and its day/month swap with phonetic names, postcode district with family name);
each candidate child's own source records are opened and scored in process with the
active model (scorer.py); the best score per child decides (docs/linkage.md):

- link when the best is at or above the upper threshold, no other child comes within
  MARGIN of it, and the pair is `eligible`: it does not look like twins and has no two
  different valid identifiers (those always need a person);
- review when the best is between the thresholds, or is not eligible, or a runner-up is
  within MARGIN, or two eligible children score above the upper threshold;
- hold, treated as shielded, when any shielded or sealed child scores above SHIELD_FLOOR
  and the record is not linked to that very child;
- otherwise a new child.
"""

from __future__ import annotations

import json
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.db.models import Q

from contactpoint.ingest.feeds import FeedRecord
from contactpoint.lib import dates
from contactpoint.linkage import store
from contactpoint.linkage.models import LinkBlock
from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.scorer import Score, Scorer
from contactpoint.registry import blind_index
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.models import BlindIndexEntry, Child, SourceRecord

MARGIN = 6.0  # bits: a runner-up closer than this to the best goes to review
SHIELD_FLOOR = -10.0  # any shielded child scoring above this holds the record
KEEP = 5  # candidates kept for a person to review


@dataclass(frozen=True)
class Candidate:
    child_id: uuid.UUID
    score: Score
    protected: bool  # shielded or sealed


@dataclass
class Match:
    action: str  # link, review, hold or new
    child_id: uuid.UUID | None = None
    reason: str | None = None  # a ReviewItem.Reason for review and hold
    weight: float | None = None
    candidates: list[Candidate] = field(default_factory=list)


def blocking_entries(record: FeedRecord) -> set[tuple[int, int]]:
    """The blind-index entries a record's child would have under any of its error variants."""
    entries: set[tuple[int, int]] = set()
    for scheme in ("nhs_number", "upn"):
        if value := getattr(record, scheme):
            entries |= {(int(i), v) for i, v in blind_index.identifier_entries(scheme, value)}
    for birth in dates.birth_date_variants(record.date_of_birth):
        for family in {record.family_name, record.former_family_name} - {""}:
            entries |= {
                (int(i), v)
                for i, v in blind_index.name_entries(
                    record.given_name, family, birth, record.postcode
                )
            }
    return entries


def candidate_children(wanted: list[set[tuple[int, int]]]) -> list[set[uuid.UUID]]:
    by_index: dict[int, set[int]] = defaultdict(set)
    for entries in wanted:
        for index, value in entries:
            by_index[index].add(value)
    # One condition per index, so the (index, value) unique index serves every lookup.
    where = Q()
    for index, values in by_index.items():
        where |= Q(index=index, value__in=list(values))
    hits: dict[tuple[int, int], set[uuid.UUID]] = defaultdict(set)
    rows = BlindIndexEntry.objects.filter(where).values_list("index", "value", "child_id")
    for index, value, child in rows if by_index else ():
        hits[(index, value)].add(child)
    return [{c for e in entries for c in hits.get(e, ())} for entries in wanted]


def _child_records(child_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[LinkRecord]]:
    """Open every linked source record of these children, as linkage records."""
    return open_records(ciphers_for(child_ids))


def open_records(ciphers: Mapping[uuid.UUID, ChildCipher]) -> dict[uuid.UUID, list[LinkRecord]]:
    """Open every linked source record of the children these ciphers are for, as linkage
    records (a caller that needs the ciphers again, as search does, unwraps the keys once)."""
    found: dict[uuid.UUID, list[LinkRecord]] = defaultdict(list)
    rows = SourceRecord.objects.filter(child_id__in=list(ciphers), status="linked").values_list(
        "id", "child_id", "payload"
    )
    for sr_id, child_id, payload in rows:
        body = ciphers[child_id].open(SourceRecord, "payload", sr_id, bytes(payload))
        if body is not None:
            found[child_id].append(from_canonical(str(sr_id), json.loads(body)))
    return found


def best_scores(
    scorer: Scorer, link: LinkRecord, records: Mapping[uuid.UUID, list[LinkRecord]]
) -> dict[uuid.UUID, Score]:
    """Each child's score against a record: the best of its own records' (a child with no
    record that can be opened has none)."""
    return {
        child: max((scorer.score(link, o) for o in others), key=lambda s: s.weight)
        for child, others in records.items()
        if others
    }


def scores_for(link: LinkRecord, child_ids: set[uuid.UUID]) -> dict[uuid.UUID, Score]:
    """best_scores against these children, their records opened here."""
    return best_scores(store.active().scorer, link, _child_records(child_ids))


class Matcher:
    def __init__(self) -> None:
        self.model = store.active()

    def match(self, records: list[tuple[uuid.UUID, FeedRecord, LinkRecord]]) -> list[Match]:
        """Decide each record's child. Each entry is (source record id, record, linkage form)."""
        candidates = candidate_children([blocking_entries(r) for _, r, _ in records])
        everyone = set().union(*candidates) if candidates else set()
        rows = Child.objects.filter(id__in=list(everyone)).values_list("id", "status", "shielded")
        live, protected = set(), set()
        for child, status, shielded in rows:
            # An archived young person's later records join the archived record: a new
            # active child would be searchable again until the next retention run.
            if status in (Child.Status.ACTIVE, Child.Status.SEALED, Child.Status.ARCHIVED):
                live.add(child)
            if shielded or status == Child.Status.SEALED:
                protected.add(child)
        opened = _child_records(live)
        blocked = _blocks([sr for sr, _, _ in records]) if everyone else {}
        matches = []
        for (sr_id, _, link), children in zip(records, candidates, strict=True):
            wanted = children & live - blocked.get(sr_id, set())
            scores = best_scores(self.model.scorer, link, {c: opened[c] for c in wanted})
            matches.append(
                self.decide(Candidate(c, score, c in protected) for c, score in scores.items())
            )
        return matches

    def decide(self, scored: Iterable[Candidate]) -> Match:
        """Decide from each candidate child's best score (the rules are in the docstring)."""
        ranked = sorted(scored, key=lambda c: c.score.weight, reverse=True)
        upper, lower = self.model.upper, self.model.lower
        best = ranked[0] if ranked else None
        runner = ranked[1] if len(ranked) > 1 else None
        strong = [c for c in ranked if c.score.weight >= upper and eligible(c.score)]
        close = (
            runner is not None
            and runner.score.weight >= lower
            and (best is not None and best.score.weight - runner.score.weight < MARGIN)
        )
        chosen = (
            strong[0].child_id if len(strong) == 1 and strong[0] == best and not close else None
        )
        weight = best.score.weight if best else None
        if any(
            c.protected and c.score.weight > SHIELD_FLOOR and c.child_id != chosen for c in ranked
        ):
            kept = [c for c in ranked if c.score.weight > SHIELD_FLOOR][:KEEP]
            return Match("hold", reason="shielded", weight=weight, candidates=kept)
        if chosen is not None:
            return Match("link", chosen, weight=weight)
        if best is None or best.score.weight < lower:
            # Kept so that a sensitive record can shield every child it might be.
            near = [c for c in ranked if c.score.weight > SHIELD_FLOOR][:KEEP]
            return Match("new", weight=weight, candidates=near)
        reason = "several" if len(strong) > 1 else "runner_up" if close else "review_band"
        return Match("review", reason=reason, weight=weight, candidates=ranked[:KEEP])


def eligible(score: Score) -> bool:
    """Whether a pair may ever be linked by the model alone, whatever its weight."""
    return not _twin_like(score) and not _conflicting_identifier(score)


def _conflicting_identifier(score: Score) -> bool:
    """Two different valid NHS numbers or UPNs: strong evidence against, so however well
    the rest agrees (a mistyped number, a duplicate registration) a person decides."""
    levels = {c.comparison: c.level for c in score.contributions}
    return any(levels[i] == "all other comparisons" for i in ("nhs_number", "upn"))


def _twin_like(score: Score) -> bool:
    """A wholly different given name, no shared identifier: how a twin looks to the model.

    Same family name, birth date and address with another given name scores like a
    surname change, but is as likely a twin: a person decides, never the model.
    """
    levels = {c.comparison: c.level for c in score.contributions}
    return levels["given_name"] == "all other comparisons" and not any(
        levels[i].endswith("equal") for i in ("nhs_number", "upn")
    )


def _blocks(sr_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for sr, child in LinkBlock.objects.filter(source_record_id__in=sr_ids).values_list(
        "source_record_id", "child_id"
    ):
        found[sr].add(child)
    return found
