"""Harvesting: how many children's records can one user, one client and one organisation
open in a day?

A harvester knows children's names and dates of birth (a class list, say) and, as one
principal, goes through them for a simulated day: it searches for each child with those
plausible criteria, registers an involvement with each child it finds (which opens the
record in full), and opens the record. It stops a child at the first refusal; a refusal of
the search (429) ends its hour, so it waits for the next one. The clock (Django's
`timezone.now`) moves on an hour at a time, so every hourly and daily limit the service
has, whatever it counts, is met as a real day would meet it: nothing here knows what the
limits are, it counts what opened.

Each role is tried on the web pages (as a signed-in user) and through the API (as a
client); an organisation is tried as two of its principals in turn, so a limit on the
organisation shows as the second opening fewer than the first. The figures are printed
under "security figures" and belong in docs/security.md.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contactpoint.access import clients
from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.ingest.loader import load_folder
from contactpoint.registry.models import Organisation
from tests.support.actors import Actors, signed_in
from tests.support.children import nhs_number
from tests.support.feeds import feed_row, write_feed
from tests.support.security import report

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

HOURS = 24  # the simulated day
# A bound on the run, not a limit of the service: a principal that opens this many children
# met no limit, and the figure is reported as "at least".
ATTEMPTS = 110
GIVEN = ["Ada", "Ben", "Cara", "Dev", "Esme", "Finn", "Gita", "Hugo", "Iris", "Jude", "Kian"]
FAMILY = ["Abbott", "Baxter", "Cole", "Dunn", "Ellis", "Fry", "Grant", "Hale", "Irwin", "Joyce"]
FAMILY += ["Kemp", "Lowe", "Marsh", "Nash", "Orton", "Pryce", "Quinn", "Rowe", "Shaw", "Tate"]
ADDRESS_MARK = "Harvest Road"  # in every child's address: shown only in the full view


@dataclass(frozen=True)
class Known:
    """What the harvester knows of one child: no more than a class list holds."""

    given_name: str
    family_name: str
    date_of_birth: dt.date


def population(feeds: Path, count: int) -> list[Known]:
    """`count` made-up children, each told apart by name and date of birth, loaded through
    the real feed loader."""
    known, rows = [], []
    for n in range(count):
        child = Known(
            GIVEN[n % len(GIVEN)],
            FAMILY[(n // len(GIVEN)) % len(FAMILY)],
            dt.date(2012, 1, 1) + dt.timedelta(days=7 * n),  # all children under 25
        )
        known.append(child)
        rows.append(
            feed_row(
                record_id=f"H{n}",
                org_code="A81001",
                org_role="gp",
                as_at="2026-10-01",
                given_name=child.given_name,
                family_name=child.family_name,
                date_of_birth=child.date_of_birth.isoformat(),
                sex="F" if n % 2 else "M",
                address_line1=f"{n + 1} {ADDRESS_MARK}",
                town="London",
                postcode="NW1 3AB",
                nhs_number=nhs_number(5000 + n),
            )
        )
    write_feed(feeds, "nhs_demographics", rows)
    load_folder(feeds)
    return known


class Clock:
    """Django's clock, moved on by whole hours from the real one."""

    def __init__(self, real: Callable[[], dt.datetime]) -> None:
        self.real, self.hours = real, 0

    def __call__(self) -> dt.datetime:
        return self.real() + dt.timedelta(hours=self.hours)


@dataclass
class Tally:
    searches: int = 0
    refused_searches: int = 0
    found: int = 0
    opened: set[str] = field(default_factory=set)  # contactpoint IDs whose record opened
    in_full: set[str] = field(default_factory=set)
    refused_registrations: int = 0
    tried: int = 0  # children attempted


class Harvester:
    """One principal's way in: search, register, open. Each returns what the service said."""

    def hour(self) -> None:
        """Start a new hour (a new token or session, as a real caller would need)."""

    def search(self, child: Known) -> tuple[int, list[str]]:
        raise NotImplementedError

    def register(self, cpid: str) -> int:
        raise NotImplementedError

    def view(self, cpid: str) -> str | None:
        """'identity', 'full' (or 'withheld'), or None when the record did not open."""
        raise NotImplementedError


# A role each kind of organisation plausibly registers (the service may check it).
ROLE_FOR_KIND = {"school": "school_nurse", "council_team": "social_worker"}


class WebHarvester(Harvester):
    def __init__(self, user: User) -> None:
        self.user = user
        self.role = ROLE_FOR_KIND.get(user.organisation.kind, "early_help")

    def hour(self) -> None:
        self.http = signed_in(self.user)

    def search(self, child: Known) -> tuple[int, list[str]]:
        born = child.date_of_birth
        response = self.http.post(
            "/search",
            {
                "purpose": "starting_work",
                "family_name": child.family_name,
                "given_name": child.given_name,
                "dob-day": str(born.day),
                "dob-month": str(born.month),
                "dob-year": str(born.year),
            },
        )
        page = response.content.decode()
        found = sorted({part.split('"')[0] for part in page.split('href="/children/')[1:]})
        return response.status_code, [f for f in found if f.startswith("CP-")]

    def register(self, cpid: str) -> int:
        details = {"role": self.role, "job_title": "Worker", "phone": "020 7946 0999"}
        response = self.http.post(f"/children/{cpid}/involvements", details)
        return 201 if response.status_code == 302 else response.status_code

    def view(self, cpid: str) -> str | None:
        response = self.http.get(f"/children/{cpid}")
        if response.status_code != 200:
            return None
        return "full" if ADDRESS_MARK in response.content.decode() else "identity"


class ApiHarvester(Harvester):
    def __init__(self, actors: Actors, organisation: Organisation, role: Role) -> None:
        self.client, self.secret = clients.create_client(
            Actor.of(actors.nadia), name="harvester", organisation=organisation, role=role
        )
        self.role = ROLE_FOR_KIND.get(organisation.kind, "early_help")
        self.http = Client()

    def hour(self) -> None:
        token, _ = clients.issue_token(self.client.client_id, self.secret)
        self.headers = {"Authorization": f"Bearer {token}"}

    def _post(self, path: str, body: dict[str, Any]) -> Any:
        return self.http.post(
            "/api/v1" + path,
            json.dumps(body),
            content_type="application/json",
            headers=self.headers,
        )

    def search(self, child: Known) -> tuple[int, list[str]]:
        response = self._post(
            "/children/search",
            {
                "purpose": "starting_work",
                "family_name": child.family_name,
                "given_name": child.given_name,
                "date_of_birth": child.date_of_birth.isoformat(),
            },
        )
        if response.status_code != 200:
            return response.status_code, []
        return 200, [c["cpid"] for c in response.json()["candidates"]]

    def register(self, cpid: str) -> int:
        body = {"role": self.role, "name": "Sam Worker", "phone": "020 7946 0999"}
        return int(self._post(f"/children/{cpid}/involvements", body).status_code)

    def view(self, cpid: str) -> str | None:
        response = self.http.get(f"/api/v1/children/{cpid}", headers=self.headers)
        return str(response.json()["view"]) if response.status_code == 200 else None


def harvest(who: Harvester, children: list[Known], clock: Clock, hours: int = HOURS) -> Tally:
    """Go through `children` for `hours` simulated hours (a day) from the clock's present
    hour."""
    tally, queue, start = Tally(), iter(children[:ATTEMPTS]), clock.hours
    child = next(queue, None)
    while child is not None and clock.hours < start + hours:
        who.hour()
        while child is not None:
            status, found = who.search(child)
            tally.searches += 1
            if status == 429 or status == 403:
                tally.refused_searches += 1
                break  # used up (or never allowed): wait for the next hour
            tally.tried += 1
            tally.found += len(found)
            for cpid in found:
                if who.register(cpid) != 201:
                    tally.refused_registrations += 1
                view = who.view(cpid)
                if view:
                    tally.opened.add(cpid)
                if view == "full":
                    tally.in_full.add(cpid)
            child = next(queue, None)
        clock.hours += 1
    clock.hours = start + hours  # the next harvester starts when this one's time ends
    return tally


def figure(tally: Tally) -> str:
    bound = " (at least: no limit met within the run)" if tally.tried >= ATTEMPTS else ""
    return (
        f"{len(tally.opened)} opened, {len(tally.in_full)} in full{bound}; "
        f"{tally.searches} searches ({tally.refused_searches} refused), "
        f"{tally.refused_registrations} registrations refused"
    )


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    moved = Clock(timezone.now)
    monkeypatch.setattr(timezone, "now", moved)
    return moved


@pytest.mark.slow
def test_the_most_children_one_user_client_and_organisation_open_in_a_day(
    actors: Actors, feeds: Path, clock: Clock
) -> None:
    children = population(feeds, 2 * ATTEMPTS + 10)
    organisations = {
        "school A (practitioners)": {
            "a practitioner (web)": WebHarvester(actors.alice),
            "a practitioner client (API)": ApiHarvester(actors, actors.school_a, Role.PRACTITIONER),
        },
        "council A (local index team)": {
            "an index-team member (web)": WebHarvester(actors.ian),
            "an index-team client (API)": ApiHarvester(actors, actors.council_a, Role.INDEX_TEAM),
        },
    }
    for name, principals in organisations.items():
        tallies = opened_by_one_organisation(principals, children, clock)
        for who, tally in tallies.items():
            report(f"harvesting in a day, {who}: {figure(tally)}")
            # Something held each principal within the day: the run never ran dry.
            assert tally.tried < ATTEMPTS, f"{who} met no limit in {ATTEMPTS} children"
            assert tally.refused_searches > 0, who
            assert len(tally.in_full) <= len(tally.opened) <= tally.found, who
        opened = set().union(*(t.opened for t in tallies.values()))
        in_full = set().union(*(t.in_full for t in tallies.values()))
        first, second = (len(t.opened) for t in tallies.values())
        held = "an organisation-wide limit met" if second < first else "no organisation limit met"
        report(
            f"harvesting in a day, one organisation, {name}, a user then a client: "
            f"{len(opened)} opened, {len(in_full)} in full ({held})"
        )


def opened_by_one_organisation(
    principals: dict[str, Harvester], children: list[Known], clock: Clock
) -> dict[str, Tally]:
    """Two principals of one organisation in turn, each on children the other has not
    tried: a limit on the organisation shows as the second opening fewer."""
    return {
        who: harvest(harvester, children[n * ATTEMPTS :], clock)
        for n, (who, harvester) in enumerate(principals.items())
    }


def test_the_roles_without_child_permissions_open_no_child(
    actors: Actors, feeds: Path, clock: Clock
) -> None:
    children = population(feeds, 3)
    for user, role in ((actors.petra, Role.PRIVACY_OFFICER), (actors.nadia, Role.NATIONAL_ADMIN)):
        for who, harvester in (
            ("user (web)", WebHarvester(user)),
            ("client (API)", ApiHarvester(actors, user.organisation, role)),
        ):
            # A refusal of the permission is no quota: an hour shows it as well as a day.
            tally = harvest(harvester, children, clock, hours=1)
            report(f"harvesting, a {role.value} {who}: {figure(tally)}")
            assert tally.opened == set() and tally.found == 0
            assert tally.refused_searches == tally.searches > 0
