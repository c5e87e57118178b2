"""Match incoming records against the whole registry, one batch at a time, without Splink.

Candidates come from the blind indexes (registry/candidates.py, the same keys search uses:
identifiers, date of birth and its day/month swap with phonetic names, postcode district
with family name);
each candidate child's own source records are opened and scored in process with the
active model (scorer.py); the best score per child decides (docs/linkage.md):

- link when the best is at or above the upper threshold, no other child comes within
  MARGIN of it, and the pair is `eligible`: it does not look like twins (`twin_like`) and
  has no two different valid identifiers (those always need a person); a record too thin
  to match safely (`too_thin`) only when no other child even reaches the review band, and
  one without a date of birth only to a child of the same given name (`same_given_name`);
- review when the best is between the thresholds, or is not eligible, or a runner-up is
  within MARGIN, or two eligible children score above the upper threshold; a record too
  thin to match safely that is not linked waits (reason `insufficient`), unless no child
  reaches the review band and it may found a child alone (`founds_alone`);
- hold, treated as shielded, when any shielded or sealed child scores above SHIELD_FLOOR
  and the record is not linked to that very child;
- otherwise a new child.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import jellyfish

from contactpoint.linkage import store
from contactpoint.linkage.models import LinkBlock
from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.scorer import Score, Scorer
from contactpoint.registry import payloads, shield_tags
from contactpoint.registry.candidates import candidate_children, record_entries, variant_entries
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.models import Child, SourceRecord

MARGIN = 6.0  # bits: a runner-up closer than this to the best goes to review
SHIELD_FLOOR = -10.0  # any shielded child scoring above this holds the record
KEEP = 5  # candidates kept for a person to review


@dataclass(frozen=True)
class Candidate:
    child_id: uuid.UUID
    score: Score
    protected: bool  # shielded or sealed
    record: LinkRecord  # the child's record that scored best
    records: tuple[LinkRecord, ...] = ()  # all the child's records, for the twin rule


@dataclass
class Match:
    action: str  # link, review, hold or new
    child_id: uuid.UUID | None = None
    reason: str | None = None  # a ReviewItem.Reason for review and hold
    weight: float | None = None
    candidates: list[Candidate] = field(default_factory=list)
    refused_as_twins: int = 0  # candidates at or above upper refused only by the twin rule


def _child_records(child_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[LinkRecord]]:
    """Open every linked source record of these children, as linkage records."""
    return open_records(ciphers_for(child_ids))


def open_records(ciphers: Mapping[uuid.UUID, ChildCipher]) -> dict[uuid.UUID, list[LinkRecord]]:
    """Open every linked source record of the children these ciphers are for, as linkage
    records (a caller that needs the ciphers again unwraps the keys once)."""
    found: dict[uuid.UUID, list[LinkRecord]] = defaultdict(list)
    rows = SourceRecord.objects.filter(child_id__in=list(ciphers), status="linked").values_list(
        "id", "child_id", "payload"
    )
    for sr_id, child_id, payload in rows:
        doc = payloads.open_document(ciphers[child_id], sr_id, payload)
        if doc is not None:
            found[child_id].append(from_canonical(str(sr_id), doc))
    return found


def best_pairs(
    scorer: Scorer, link: LinkRecord, records: Mapping[uuid.UUID, list[LinkRecord]]
) -> dict[uuid.UUID, tuple[Score, LinkRecord]]:
    """Each child's best score against a record, and the child's record that made it (a
    child with no record that can be opened has none)."""
    found: dict[uuid.UUID, tuple[Score, LinkRecord]] = {}
    for child, others in records.items():
        for other in others:
            score = scorer.score(link, other)
            if child not in found or score.weight > found[child][0].weight:
                found[child] = (score, other)
    return found


def best_scores(
    scorer: Scorer, link: LinkRecord, records: Mapping[uuid.UUID, list[LinkRecord]]
) -> dict[uuid.UUID, Score]:
    """Each child's score against a record: the best of its own records' (best_pairs)."""
    return {child: score for child, (score, _) in best_pairs(scorer, link, records).items()}


def scores_for(link: LinkRecord, child_ids: set[uuid.UUID]) -> dict[uuid.UUID, Score]:
    """best_scores against these children, their records opened here."""
    return best_scores(store.active().scorer, link, _child_records(child_ids))


Entry = tuple[uuid.UUID, FeedRecord, LinkRecord]  # source record id, record, linkage form


class Matcher:
    def __init__(self) -> None:
        self.model = store.active()
        self.refused_as_twins = 0  # over every record matched: the twin rule's splits

    def match(self, records: list[Entry]) -> list[Match]:
        """Decide each record's child. Each entry is (source record id, record, linkage form).

        Candidates come from the exact keys (record_entries) first; a record the model
        would not link on those is looked up again under its error variants
        (variant_entries), so the common case opens no more children than it needs.
        """
        found = candidate_children([record_entries(r) for _, r, _ in records])
        scored = self._candidates(records, found)
        matches = [self.decide(link, c) for (_, _, link), c in zip(records, scored, strict=True)]
        again = [n for n, m in enumerate(matches) if m.action != "link"]
        if again:
            wanted = [variant_entries(records[n][1]) for n in again]
            more = [f - found[n] for f, n in zip(candidate_children(wanted), again, strict=True)]
            extras = self._candidates([records[n] for n in again], more)
            for n, extra in zip(again, extras, strict=True):
                if extra:
                    matches[n] = self.decide(records[n][2], scored[n] + extra)
        self.refused_as_twins += sum(m.refused_as_twins for m in matches)
        return matches

    def _candidates(
        self, records: list[Entry], found: list[set[uuid.UUID]]
    ) -> list[list[Candidate]]:
        """Each record's candidates among the children found for it, scored."""
        everyone = set().union(*found) if found else set()
        rows = Child.objects.filter(id__in=list(everyone)).values_list("id", "status")
        shielded = shield_tags.shielded_among(everyone)
        live, protected = set(), set()
        for child, status in rows:
            # An archived young person's later records join the archived record: a new
            # active child would be searchable again until the next retention run.
            if status in (Child.Status.ACTIVE, Child.Status.SEALED, Child.Status.ARCHIVED):
                live.add(child)
            if child in shielded or status == Child.Status.SEALED:
                protected.add(child)
        opened = _child_records(live)
        blocked = _blocks([sr for sr, _, _ in records]) if everyone else {}
        scored = []
        for (sr_id, _, link), children in zip(records, found, strict=True):
            wanted = children & live - blocked.get(sr_id, set())
            pairs = best_pairs(self.model.scorer, link, {c: opened[c] for c in wanted})
            scored.append(
                [
                    Candidate(c, score, c in protected, o, tuple(opened[c]))
                    for c, (score, o) in pairs.items()
                ]
            )
        return scored

    def decide(self, link: LinkRecord, scored: Iterable[Candidate]) -> Match:
        """Decide from each candidate child's best score (the rules are in the docstring)."""
        ranked = sorted(scored, key=lambda c: c.score.weight, reverse=True)
        upper, lower = self.model.upper, self.model.lower
        best = ranked[0] if ranked else None
        runner = ranked[1] if len(ranked) > 1 else None
        high = [c for c in ranked if c.score.weight >= upper]
        rule = self.model.twin_rule
        strong = [c for c in high if eligible_child(link, c, rule)]
        twins = sum(1 for c in high if rule and refused_as_twin_of(link, c))
        thin = too_thin(link)
        # A thin record is linked only when no other child even reaches the review band.
        close = (
            runner is not None
            and runner.score.weight >= lower
            and (thin or (best is not None and best.score.weight - runner.score.weight < MARGIN))
        )
        chosen = (
            strong[0].child_id
            if len(strong) == 1 and strong[0] == best and not close and tells_apart(link, rule)
            else None
        )
        weight = best.score.weight if best else None
        if any(
            c.protected and c.score.weight > SHIELD_FLOOR and c.child_id != chosen for c in ranked
        ):
            kept = [c for c in ranked if c.score.weight > SHIELD_FLOOR][:KEEP]
            return Match(
                "hold", reason="shielded", weight=weight, candidates=kept, refused_as_twins=twins
            )
        if chosen is not None:
            return Match("link", chosen, weight=weight)
        alone = best is None or best.score.weight < lower
        if thin and not (alone and founds_alone(link, rule)):
            # A person decides, from whatever its fields found.
            return Match(
                "review",
                reason="insufficient",
                weight=weight,
                candidates=ranked[:KEEP],
                refused_as_twins=twins,
            )
        if alone:
            # Kept so that a sensitive record can shield every child it might be.
            near = [c for c in ranked if c.score.weight > SHIELD_FLOOR][:KEEP]
            return Match("new", weight=weight, candidates=near, refused_as_twins=twins)
        reason = "several" if len(strong) > 1 else "runner_up" if close else "review_band"
        return Match(
            "review", reason=reason, weight=weight, candidates=ranked[:KEEP], refused_as_twins=twins
        )


def too_thin(link: LinkRecord) -> bool:
    """Whether a record is too thin to match safely: no date of birth, or neither a given
    name nor an identifier. Such a record never founds a child (two thin records of two
    children would look alike), and is linked only when the model is sure."""
    identified = link.nhs_number is not None or link.upn is not None
    return link.dob is None or (link.given_name is None and not identified)


def founds_alone(link: LinkRecord, twin_rule: bool = True) -> bool:
    """Whether a record too thin to match safely may still found a child of its own when
    no child comes near it (none reaches the review band), so that the next thin record of
    the same child has one to meet: a date of birth and a family name but no given name,
    where the population holds no twins (the model's twin rule set aside): the birth date
    tells brothers and sisters apart, as only twins share one. Never a record without a
    date of birth: every child has one (retention archives by it). A child founded so has
    no given name until a fuller record joins it (docs/linkage.md).
    """
    return link.family_name is not None and link.dob is not None and not twin_rule


def same_given_name(left: LinkRecord, right: LinkRecord) -> bool:
    """Whether two given names are one name as a slip spells it: both known and at most
    `edits_allowed` edits apart. Not a nickname, not an initial: without a date of birth
    the given name is all that tells a child from a sister ("Mia" beside "Amelia")."""
    a, b = left.given_name, right.given_name
    if a is None or b is None:
        return False
    distance = jellyfish.damerau_levenshtein_distance(a, b)
    return bool(distance <= edits_allowed(min(len(a), len(b))))


def tells_apart(link: LinkRecord, twin_rule: bool = True) -> bool:
    """Whether a record carries anything that tells brothers and sisters apart, so that
    the model may link it: an identifier, or a given name, or, where the population holds
    no twins (the model's twin rule set aside), a date of birth. Family name and address
    are a household's, and a birth date is a twin's too: the first child of a house
    registered would draw a brother's or a twin's nameless record."""
    identified = link.nhs_number is not None or link.upn is not None
    dated = link.dob is not None and not twin_rule
    return identified or link.given_name is not None or dated


def eligible_child(link: LinkRecord, candidate: Candidate, twin_rule: bool = True) -> bool:
    """`eligible` against the candidate's best record, not twin-like with any of its
    records (once one twin's record has joined a child by mistake, the other twin's records
    would score best against it and follow), and, for a record without a date of birth, an
    identifier in common or the same given name."""
    if not eligible(link, candidate.record, candidate.score, twin_rule):
        return False
    if link.dob is None and not (
        shares_identifier(link, candidate.record) or same_given_name(link, candidate.record)
    ):
        return False
    return not (twin_rule and any(twin_like(link, r) for r in candidate.records))


def refused_as_twin_of(link: LinkRecord, candidate: Candidate) -> bool:
    """refused_as_twin against the candidate child: its best record or any other."""
    if _conflicting_identifier(candidate.score):
        return False
    return any(twin_like(link, r) for r in (candidate.record, *candidate.records))


def eligible(left: LinkRecord, right: LinkRecord, score: Score, twin_rule: bool = True) -> bool:
    """Whether a pair may ever be linked by the model alone, whatever its weight.

    Args:
        left, right: the two records, standardised.
        score: the pair's score (its levels say whether two identifiers differ).
        twin_rule: whether the twin rule holds (the model's: ActiveModel.twin_rule).
    """
    twins = twin_rule and twin_like(left, right)
    return not twins and not _conflicting_identifier(score)


def refused_as_twin(left: LinkRecord, right: LinkRecord, score: Score) -> bool:
    """Whether the twin rule alone keeps an otherwise eligible pair apart (a split when
    the two are one child: counted by every evaluation)."""
    return twin_like(left, right) and not _conflicting_identifier(score)


def _conflicting_identifier(score: Score) -> bool:
    """Two different valid NHS numbers or UPNs: strong evidence against, so however well
    the rest agrees (a mistyped number, a duplicate registration) a person decides."""
    levels = {c.comparison: c.level for c in score.contributions}
    return any(levels[i] == "all other comparisons" for i in ("nhs_number", "upn"))


def twin_like(left: LinkRecord, right: LinkRecord) -> bool:
    """How a twin looks beside their sibling: the same birth date (or its day and month
    swapped) and household (the same postcode district, or a postcode unknown: a mistyped
    postcode stays in the district), given names that are different names, no shared
    identifier.

    Such a pair scores like one child whose given name was mistyped: a person decides,
    never the model. bulk.py states the same rule in SQL.
    """
    if left.dob is None or right.dob is None or right.dob not in (left.dob, left.dob_swapped):
        return False
    if None not in (left.postcode, right.postcode) and (
        left.postcode_district != right.postcode_district
    ):
        return False
    return not shares_identifier(left, right) and different_given_names(left, right)


def shares_identifier(left: LinkRecord, right: LinkRecord) -> bool:
    """Whether two records carry the same NHS number or UPN."""
    return any(
        getattr(left, s) is not None and getattr(left, s) == getattr(right, s)
        for s in ("nhs_number", "upn")
    )


LONG_NAME = 5  # letters from which a given name may be two edits from its misspelling


def edits_allowed(length: int) -> int:
    """How many edits (Damerau-Levenshtein) one given name may be from another and still be
    a misspelling of it, by the shorter name's length: two from five letters, one below
    (two edits turn most short names into other names: Amy, Ava, Ada, Ivy)."""
    return 2 if length >= LONG_NAME else 1


def different_given_names(left: LinkRecord, right: LinkRecord) -> bool:
    """Whether two given names are different names, not one name spelt two ways: both
    known, neither the other's prefix or initial, no nickname group in common, and more
    than `edits_allowed` edits apart."""
    a, b = left.given_name, right.given_name
    if a is None or b is None or a.startswith(b) or b.startswith(a):
        return False
    if set(left.given_nicknames or ()) & set(right.given_nicknames or ()):
        return False
    distance = jellyfish.damerau_levenshtein_distance(a, b)
    return bool(distance > edits_allowed(min(len(a), len(b))))


def _blocks(sr_ids: list[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
    found: dict[uuid.UUID, set[uuid.UUID]] = defaultdict(set)
    for sr, child in LinkBlock.objects.filter(source_record_id__in=sr_ids).values_list(
        "source_record_id", "child_id"
    ):
        found[sr].add(child)
    return found
