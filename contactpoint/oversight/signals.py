"""What the application knows about a child at the moment a user looks at them, kept on the
audit event for misuse detection (contactpoint.oversight.rules reads it as `Access` flags).

Worked out where the child's name and postcode are already open in memory (a search's
candidates, a record being shown), so detection never needs plaintext and the database
never holds it: the event keeps only the names of the signals, e.g. "involved,same_surname".

- same_surname: a part of the child's family name is a part of the user's (their account
  name's last word, or its hyphenated parts).
- same_address: the child's postcode is the home postcode the user declared.
- involved: the user's organisation has an open involvement with the child.
- outside_area: the child has involvements with organisations of council areas, none of
  them the user's organisation's.
- shielded: the child is shielded.
"""

from __future__ import annotations

import time
import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from contactpoint.access.models import User
from contactpoint.access.permissions import Principal
from contactpoint.lib.identifiers import normalise_postcode
from contactpoint.lib.names import PARTICLES, name_tokens
from contactpoint.oversight import declarations
from contactpoint.registry.involvement_facts import with_links
from contactpoint.registry.models import Involvement

SAME_SURNAME = "same_surname"
SAME_ADDRESS = "same_address"
INVOLVED = "involved"
OUTSIDE_AREA = "outside_area"
SHIELDED = "shielded"
ALL = (SAME_SURNAME, SAME_ADDRESS, INVOLVED, OUTSIDE_AREA, SHIELDED)


@dataclass(frozen=True, slots=True)
class Seen:
    """What was open of one child (None: not known or not opened)."""

    family_name: str | None = None
    postcode: str | None = None
    shielded: bool = False

    def __repr__(self) -> str:  # never a name or a postcode in a log or a traceback
        return f"Seen(shielded={self.shielded})"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The user's side of the comparison."""

    surname_parts: frozenset[str]
    home_postcode: str | None

    def __repr__(self) -> str:
        return "Viewer(...)"


# A user's side is read once a minute at most in each process, not on every search: it is
# two queries and a key unwrap, two thirds of an audited search's cost otherwise. A new
# declaration applies at once in the process that took it and within VIEWER_SECONDS in
# the others.
VIEWER_SECONDS = 60.0
VIEWERS_KEPT = 10_000
_viewers: dict[str, tuple[float, Viewer]] = {}


def viewer(principal: Principal) -> Viewer:
    """The user's surname parts and declared home postcode (a machine client has neither)."""
    if principal.kind != "user":
        return Viewer(frozenset(), None)
    now = time.monotonic()
    kept = _viewers.get(principal.id)
    if kept is not None and kept[0] > now:
        return kept[1]
    user = User.objects.filter(pk=principal.id).first()
    if user is None:
        return Viewer(frozenset(), None)
    words = user.name.split()
    surname = _parts(words[-1]) if words else frozenset()
    found = Viewer(surname, declarations.home_postcode(user))
    if len(_viewers) >= VIEWERS_KEPT:
        _viewers.clear()
    _viewers[principal.id] = (now + VIEWER_SECONDS, found)
    return found


def forget(user_id: str) -> None:
    """Read the user's side again next time (their name or declaration changed)."""
    _viewers.pop(user_id, None)


def signals(principal: Principal, seen: Mapping[uuid.UUID, Seen]) -> dict[uuid.UUID, str]:
    """The signals of each child looked at, as the audit event keeps them (one query, and
    the user's side once a minute)."""
    if not seen:
        return {}
    me = viewer(principal)
    children = list(seen)
    involved: set[uuid.UUID] = set()
    areas: dict[uuid.UUID, set[str]] = defaultdict(set)
    # The organisation links are sealed: opened with the children's keys, in one pass.
    for inv in with_links(Involvement.objects.filter(child_id__in=children)):
        if inv.organisation_id == principal.organisation_id and inv.end_date is None:
            involved.add(inv.child_id)
        if inv.organisation.council_area is not None:
            areas[inv.child_id].add(inv.organisation.council_area.code)
    found = {}
    for child, what in seen.items():
        names = set()
        if me.surname_parts and what.family_name and me.surname_parts & _parts(what.family_name):
            names.add(SAME_SURNAME)
        if me.home_postcode and normalise_postcode(what.postcode or "") == me.home_postcode:
            names.add(SAME_ADDRESS)
        if child in involved:
            names.add(INVOLVED)
        if principal.area_code and areas[child] and principal.area_code not in areas[child]:
            names.add(OUTSIDE_AREA)
        if what.shielded:
            names.add(SHIELDED)
        found[child] = ",".join(n for n in ALL if n in names)
    return found


def parse(text: str) -> frozenset[str]:
    """The signals an event keeps, from its column."""
    return frozenset(s for s in text.split(",") if s)


def _parts(family_name: str) -> frozenset[str]:
    """The parts of a family name that say who the family is: 'Smith-Jones' gives smith and
    jones, 'van Dijk' only dijk."""
    return frozenset(t for t in name_tokens(family_name) if t not in PARTICLES and len(t) > 1)
