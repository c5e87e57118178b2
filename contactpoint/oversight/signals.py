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
from collections.abc import Mapping
from dataclasses import dataclass

from contactpoint.access.models import User
from contactpoint.access.permissions import Principal
from contactpoint.lib.identifiers import normalise_postcode
from contactpoint.lib.names import PARTICLES, name_tokens
from contactpoint.oversight import declarations
from contactpoint.registry.involvement_facts import area_member, member
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


declarations.FORGET.append(forget)


def signals(principal: Principal, seen: Mapping[uuid.UUID, Seen]) -> dict[uuid.UUID, str]:
    """The signals of each child looked at, as the audit event keeps them (one query, and
    the user's side once a minute)."""
    if not seen:
        return {}
    me = viewer(principal)
    children = list(seen)
    involved: set[uuid.UUID] = set()
    in_an_area: set[uuid.UUID] = set()
    in_mine: set[uuid.UUID] = set()
    # The organisation links are sealed: the keyed digests of child and organisation and
    # of child and area answer without opening them (no key-store read).
    own = principal.area_code
    digests = {
        c: (member(c, principal.organisation_id), area_member(c, ""), area_member(c, own or ""))
        for c in children
    }
    rows = Involvement.objects.filter(child_id__in=children)
    for child, organisation, area, ended in rows.values_list(
        "child_id", "member", "area_member", "end_date"
    ):
        ours, no_area, our_area = digests[child]
        if bytes(organisation) == ours and ended is None:
            involved.add(child)
        if bytes(area) != no_area:
            in_an_area.add(child)
        if own and bytes(area) == our_area:
            in_mine.add(child)
    found = {}
    for child, what in seen.items():
        names = set()
        if me.surname_parts and what.family_name and me.surname_parts & _parts(what.family_name):
            names.add(SAME_SURNAME)
        if me.home_postcode and normalise_postcode(what.postcode or "") == me.home_postcode:
            names.add(SAME_ADDRESS)
        if child in involved:
            names.add(INVOLVED)
        if own and child in in_an_area and child not in in_mine:
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
