"""Plain words and pictures for the review pages: reasons, ages, the waiting record and
each candidate field by field, and each candidate's match weight as a waterfall."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from contactpoint.linkage.models import ReviewItem
from contactpoint.linkage.review import CandidateView
from contactpoint.registry.feeds import FeedRecord
from contactpoint.registry.golden import Field, GoldenRecord

REASONS: dict[str, str] = {
    ReviewItem.Reason.REVIEW_BAND: "The match weight is between the thresholds",
    ReviewItem.Reason.RUNNER_UP: "Another child came close",
    ReviewItem.Reason.SEVERAL: "Several children match strongly",
    ReviewItem.Reason.SHIELDED: "It might be a shielded child",
}
FIELDS = (
    "Given name",
    "Middle names",
    "Family name",
    "Former family names",
    "Date of birth",
    "Sex",
    "Address",
    "Town",
    "Postcode",
    "NHS number",
    "UPN",
)
BAR_WIDTH = 240  # the waterfall's drawing, in pixels; the figures are in the text beside it


def reason_words(reason: str) -> str:
    return REASONS.get(reason, reason.replace("_", " "))


def age_words(age: dt.timedelta) -> str:
    hours = int(age.total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    minutes = int(age.total_seconds() // 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def waiting_values(r: FeedRecord) -> list[str]:
    """The waiting record's values, in FIELDS' order."""
    return [
        r.given_name,
        r.middle_names,
        r.family_name,
        r.former_family_name,
        r.date_of_birth.isoformat() if r.date_of_birth else "",
        r.sex,
        ", ".join(p for p in (r.address_line1, r.address_line2) if p),
        r.town,
        str(r.postcode or ""),
        r.nhs_number or "",
        r.upn or "",
    ]


def _value(f: Field | None) -> str:
    return f.value if f else ""


def golden_values(g: GoldenRecord | None) -> list[str]:
    """A candidate's golden record, in FIELDS' order ("" for every field of none)."""
    if g is None:
        return [""] * len(FIELDS)
    return [
        _value(g.given_name),
        ", ".join(f.value for f in getattr(g, "middle_names", ()) or ()),
        _value(g.family_name),
        ", ".join(f.value for f in g.former_family_names),
        _value(g.date_of_birth),
        _value(g.sex),
        _value(g.address_line1),
        _value(getattr(g, "town", None)),
        _value(g.postcode),
        _value(g.nhs_number),
        _value(g.upn),
    ]


COMPARISONS = {"dob": "Date of birth", "nhs_number": "NHS number", "upn": "UPN"}
LEVELS = {
    "equal": "the same",
    "missing": "missing from one or both",
    "all other comparisons": "different",
}


def comparison_words(name: str) -> str:
    return COMPARISONS.get(name, name.replace("_", " ").capitalize())


def level_words(name: str, label: str) -> str:
    """A comparison level's chart label ("family_name one edit apart") in words ("one
    edit apart"): the comparison's name is in the row already."""
    rest = label.removeprefix(f"{name} ")
    return LEVELS.get(rest, rest.replace("_", " "))


@dataclass(frozen=True)
class Step:
    """One line of a waterfall: what was compared, how it came out, the bits it added, the
    running total after it, and where its bar starts and how long it is (in pixels)."""

    what: str
    result: str
    bits: float
    total: float
    x: float
    width: float
    adds: bool


def waterfall(c: CandidateView) -> list[Step]:
    """The candidate's match weight built up from the prior (the weight no comparison
    explains), one comparison at a time, drawn on one scale that includes zero."""
    if c.weight is None:
        return []
    parts = [(comparison_words(n), level_words(n, lv), w) for n, lv, w in c.contributions]
    prior = c.weight - sum(w for _, _, w in parts)
    lines = [("Before comparing (the prior)", "two records picked at random", prior), *parts]
    totals = []
    running = 0.0
    for _, _, bits in lines:
        running += bits
        totals.append(running)
    lo, hi = min(0.0, *totals), max(0.0, *totals)
    scale = BAR_WIDTH / ((hi - lo) or 1.0)
    steps = []
    before = 0.0
    for (what, result, bits), total in zip(lines, totals, strict=True):
        start, end = sorted(((before - lo) * scale, (total - lo) * scale))
        steps.append(Step(what, result, bits, total, start, max(end - start, 1.0), bits >= 0))
        before = total
    return steps
