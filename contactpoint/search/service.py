"""Search: find a child from criteria that meet the minimum, through the blind indexes only.

The criteria become blind-index keys in the application (registry/candidates.py, which
builds a feed record's too: every error variant the linkage blocking allows, phonetic
names, each part of a double-barrelled family name, the day/month swap); the database sees
only truncated keyed digests. The children those keys find are scored in process with the
active linkage model, as a feed record would be (contactpoint.linkage.realtime), and the
answer is:

- nothing, with "no child matches closely enough: check or add a detail" (NO_MATCH),
  unless the best child's evidence is at least CONFIDENT_BITS; and nothing, with "too
  many children match: add a detail" (TOO_MANY), when more than KEEP children come within
  WINDOW_BITS of the best (the criteria do not tell them apart);
- otherwise those children, best first, each with a name, a year of birth and a postcode
  district only (no district for a shielded child).

Evidence is the sum of the model's match weights for each comparison (bits), without the
model's prior: the linkage prior says how rare a match is between two random records in
the population, but a search already names one child the practitioner knows exists, and
the blind indexes have narrowed the population to those sharing a key. 15 bits is one in
32,768: a typo in the given name with a swapped date of birth and an exact family name
scores about 16, and an exact name and date of birth about 29 (docs/search.md).

No match and a weak match give the same answer, so a search does not say whether a child
is on the index (too many says only that the criteria are common). Every search counts
against the user's (or client's) hourly and daily quota and their organisation's daily
quota.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contactpoint.access import throttle
from contactpoint.access.permissions import Principal
from contactpoint.audit import log as audit_log
from contactpoint.lib.errors import Refusal
from contactpoint.linkage import realtime, store
from contactpoint.linkage.records import LinkRecord, from_canonical
from contactpoint.linkage.scorer import Score
from contactpoint.oversight.signals import Seen, signals
from contactpoint.practice.holders import finding
from contactpoint.practice.models import Finding
from contactpoint.registry import payloads, replica, shield_tags
from contactpoint.registry.candidates import active_candidates, search_entries
from contactpoint.registry.children import ciphers_for
from contactpoint.registry.cipher import ChildCipher
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.golden import summaries, summary_of
from contactpoint.registry.models import Child, SourceRecord
from contactpoint.search.criteria import Criteria

KEEP = 5
CONFIDENT_BITS = 15.0
WINDOW_BITS = 10.0
_HOUR, _DAY = dt.timedelta(hours=1), dt.timedelta(days=1)
NO_MATCH = (
    "No child matches what you entered closely enough. Check the details, or add one, "
    "such as a postcode or an NHS number"
)
TOO_MANY = (
    "Too many children match what you entered to tell them apart. Add a detail, "
    "such as a postcode or an NHS number"
)


SEARCH = "child:records:search"
SEARCH_FIELDS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "postcode",
    "district",
    "nhs_number",
    "upn",
)


class QuotaExceeded(Refusal):
    """The user, client or organisation has made as many searches as the hour or the day
    allows."""


@dataclass(frozen=True)
class Candidate:
    child_id: uuid.UUID
    cpid: str
    given_name: str
    family_name: str
    birth_year: int | None
    district: str | None  # None for a shielded child
    shielded: bool


@dataclass(frozen=True)
class Result:
    candidates: tuple[Candidate, ...]
    # What misuse detection compares (oversight.signals), for the audit event only: never
    # shown, never in a repr.
    seen: Mapping[uuid.UUID, Seen] = field(default_factory=dict, repr=False, compare=False)
    too_many: bool = False  # confident matches, more than KEEP of them

    @property
    def message(self) -> str | None:
        if self.candidates:
            return None
        return TOO_MANY if self.too_many else NO_MATCH


def quota_limits() -> tuple[throttle.Limit, throttle.Limit]:
    return (
        throttle.Limit("search-hour", settings.CONTACTPOINT_SEARCHES_PER_HOUR, _HOUR),
        throttle.Limit("search-day", settings.CONTACTPOINT_SEARCHES_PER_DAY, _DAY),
    )


def quotas(searcher: Principal) -> list[tuple[throttle.Limit, str]]:
    """Each quota a search counts against, with its key: the user's or client's hour and
    day, and the day of their organisation (all its users and clients together), so that
    many accounts of one organisation cannot add their quotas up unseen."""
    hourly, daily = quota_limits()
    key = searcher.key
    organisation = throttle.Limit(
        "search-organisation-day", settings.CONTACTPOINT_SEARCHES_PER_ORGANISATION, _DAY
    )
    return [(hourly, key), (daily, key), (organisation, f"organisation:{searcher.organisation_id}")]


def search(searcher: Principal, criteria: Criteria) -> Result:
    """Search for a child, counted against `searcher`'s quota and audited; the candidates
    shown are recorded as found by them (which is what lets them open a record:
    practice.record).

    Raises:
        QuotaExceeded: the hour's or the day's searches of the searcher, or the day's of
            their organisation, are used up (nothing is shown; the refusal is audited).
        AuditUnavailable: the search could not be audited (nothing is shown or
            remembered; the search counts against the quota all the same).
    """
    key = searcher.key
    # Counted before any searching, in a transaction of its own: searches racing for the
    # last of the quota cannot all run, and a search that fails later still counts.
    if not throttle.take_all(quotas(searcher)):
        _refused(searcher, criteria)
    result = find(criteria)
    # Its audit events are made before the write below: their signals are reads, and
    # should not lengthen the time the audit rows are held (the log's head serialises
    # every audited access). Audited and remembered in one transaction: all or none.
    events = audit_events(searcher, criteria, result)
    with transaction.atomic():
        audit(events)
        remember(key, [c.child_id for c in result.candidates])
    return result


def _refused(searcher: Principal, criteria: Criteria) -> NoReturn:
    audit_log.append(audit_log.entry(searcher, SEARCH, audit_log.REFUSED, purpose=criteria.purpose))
    raise QuotaExceeded


def audit_events(searcher: Principal, criteria: Criteria, result: Result) -> list[audit_log.Entry]:
    """One event for each child shown (so a child's access history lists the searches that
    showed it), or one with no child; what was searched by, never the values. The purpose
    is sealed: beside a child, `child_protection_enquiry` or `safeguarding` says what
    befell them."""
    given = [f for f in SEARCH_FIELDS if getattr(criteria, f)]
    shown: list[uuid.UUID | None] = [c.child_id for c in result.candidates]
    known = signals(searcher, result.seen)
    return [
        audit_log.entry(
            searcher,
            SEARCH,
            sealed_purpose=criteria.purpose,
            child_id=child,
            signals=known.get(child, "") if child else "",
            details={"searched_by": given, "shown": len(result.candidates)},
        )
        for child in shown or [None]
    ]


def audit(events: list[audit_log.Entry]) -> None:
    """Write a search's events (the benchmark times a search with and without this)."""
    audit_log.append_many(events)


def remember(searcher: str, child_ids: list[uuid.UUID]) -> None:
    """Record that `searcher` found these children (what lets them open the records)."""
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(holder=finding(child, searcher), found_at=now) for child in child_ids
    )


@replica.stale_reads()
def find(criteria: Criteria) -> Result:
    """The search itself, without the quota (the benchmark and the tests measure this).
    Its registry reads may go to a read replica; which children are shielded, and their
    keys, are read from the primary (contactpoint.registry.replica)."""
    reached = scored(criteria)
    near = chosen(reached.ranked)
    shown = {
        child: summary_of(
            [(bits, FeedRecord.from_canonical(doc)) for bits, doc in reached.preferred[child]]
        )
        for child in near
    }
    seen = {
        child: Seen(shown[child].family_name, shown[child].postcode, child in reached.shielded)
        for child in near
        if child in shown
    }
    return Result(
        tuple(
            Candidate(
                child,
                reached.cpids[child],
                shown[child].given_name,
                shown[child].family_name,
                born.year if (born := shown[child].date_of_birth) else None,
                None if child in reached.shielded else _district(shown[child].postcode),
                child in reached.shielded,
            )
            for child in near
            if child in shown
        ),
        seen,
        too_many=not near and bool(reached.ranked) and reached.ranked[0][0] >= CONFIDENT_BITS,
    )


def again(child_ids: list[uuid.UUID]) -> tuple[Candidate, ...]:
    """The candidates of a search already made, in its order, read afresh to show its
    results again: not counted, audited or remembered again. A child no longer active is
    left out, and one shielded since is shown without its district."""
    rows = Child.objects.filter(id__in=child_ids, status=Child.Status.ACTIVE).values_list(
        "id", "cpid"
    )
    shielded = shield_tags.shielded_among(child_ids)
    known = {child: (child in shielded, cpid) for child, cpid in rows}
    shown = summaries(known)
    return tuple(
        Candidate(
            child,
            known[child][1],
            shown[child].given_name,
            shown[child].family_name,
            born.year if (born := shown[child].date_of_birth) else None,
            None if known[child][0] else _district(shown[child].postcode),
            known[child][0],
        )
        for child in child_ids
        if child in known and child in shown
    )


@dataclass(frozen=True)
class Reached:
    """The active children a search's keys reach: each with its evidence, best first; which
    are shielded; their contactpoint IDs; and, for the summary of those shown, the opened
    records their golden records take something from, with their `preferred` bits."""

    ranked: list[tuple[float, uuid.UUID]]
    shielded: set[uuid.UUID]
    cpids: dict[uuid.UUID, str]
    preferred: Mapping[uuid.UUID, list[tuple[int, dict[str, Any]]]]


def scored(criteria: Criteria) -> Reached:
    """Every active child the criteria's keys reach, scored (one query for the children,
    one for which are shielded, one for their keys, one for their records)."""
    cpids = active_candidates(search_entries(criteria))
    shielded = shield_tags.shielded_among(cpids)
    records, preferred = opened(ciphers_for(set(cpids)))
    scorer = store.active().scorer
    asked = query_record(criteria)
    scores = realtime.best_scores(
        scorer, asked, {c: r for c, r in records.items() if c not in shielded}
    )
    # A shielded child is scored without the postcode: otherwise a right guess at the
    # address would find the child where a wrong one does not, and so confirm it.
    placeless = dataclasses.replace(
        asked, postcode=None, postcode_sector=None, postcode_district=None
    )
    scores |= realtime.best_scores(
        scorer, placeless, {c: r for c, r in records.items() if c in shielded}
    )
    kept = {c: s for c, s in scores.items() if not contradicts(criteria, s)}
    ranked = sorted(((evidence(s), c) for c, s in kept.items()), reverse=True)
    return Reached(ranked, shielded, cpids, preferred)


Documents = dict[uuid.UUID, list[tuple[int, dict[str, Any]]]]


def opened(
    ciphers: Mapping[uuid.UUID, ChildCipher],
) -> tuple[dict[uuid.UUID, list[LinkRecord]], Documents]:
    """The records of these children, opened once (one query): each child's linked records
    as linkage records, to score; and the decoded records its golden record takes something
    from, each with its `preferred` bits, for the summary if the child is shown (as
    golden.summaries reads them)."""
    linked: dict[uuid.UUID, list[LinkRecord]] = defaultdict(list)
    preferred: Documents = defaultdict(list)
    rows = SourceRecord.objects.filter(child_id__in=list(ciphers)).filter(
        Q(status=SourceRecord.Status.LINKED) | ~Q(preferred=0)
    )
    for pk, child, status, bits, sealed in rows.values_list(
        "id", "child_id", "status", "preferred", "payload"
    ):
        doc = payloads.open_document(ciphers[child], pk, sealed)
        if doc is None:
            continue
        if status == SourceRecord.Status.LINKED:
            linked[child].append(from_canonical(str(pk), doc))
        if bits:
            preferred[child].append((bits, doc))
    return linked, preferred


def contradicts(criteria: Criteria, score: Score) -> bool:
    """Whether a child's best record disagrees wholly with a name the user typed (not
    equal, no shared part, nickname, single edit or phonetic match), with no identifier
    agreeing. Such a child is never shown: otherwise a made-up family name with a real
    given name and date of birth would list every child with that given name born that
    day, which is browsing by date of birth."""
    levels = {c.comparison: c.level for c in score.contributions}
    if any(levels.get(i, "").endswith("equal") for i in ("nhs_number", "upn")):
        return False
    typed = [f for f in ("given_name", "family_name") if getattr(criteria, f)]
    return any(levels.get(f) == "all other comparisons" for f in typed)


def chosen(
    ranked: list[tuple[float, uuid.UUID]],
    confident: float = CONFIDENT_BITS,
    window: float = WINDOW_BITS,
    keep: int = KEEP,
) -> list[uuid.UUID]:
    """The children to show: none unless the best is confident; then those within
    `window` bits of it, unless there are more than `keep` (the benchmark tries others)."""
    if not ranked or ranked[0][0] < confident:
        return []
    near = [child for bits, child in ranked if bits >= ranked[0][0] - window]
    return near if len(near) <= keep else []


def evidence(score: Score) -> float:
    """The bits of evidence the comparisons give, without the model's prior."""
    return sum(c.weight for c in score.contributions)


def query_record(criteria: Criteria) -> LinkRecord:
    """The criteria as a linkage record, standardised as every source record is."""
    link = from_canonical(
        "search",
        {
            "given_name": criteria.given_name,
            "family_name": criteria.family_name,
            "date_of_birth": criteria.date_of_birth.isoformat(),
            "postcode": str(criteria.postcode) if criteria.postcode else None,
            "nhs_number": criteria.nhs_number or None,
            "upn": criteria.upn or None,
        },
    )
    if criteria.district and criteria.postcode is None:
        # The district stands for the postcode too: it equals no full postcode or sector,
        # so the comparison reaches its district level (agreeing or not) instead of
        # counting the postcode as missing.
        link = dataclasses.replace(
            link, postcode=criteria.district, postcode_district=criteria.district
        )
    return link


def _district(postcode: str | None) -> str | None:
    return postcode.split()[0] if postcode else None
