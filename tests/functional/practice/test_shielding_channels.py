"""A shielded child through every channel, for every role (docs/practice.md#shielding).

To everyone but its local index team a shielded child is a name, a sex, a date of birth, a
contactpoint ID and "contact the local index team". Its address, school, GP, carers and
involvements never leave the server for anyone else: not on a page, in an API answer, a
search result (no district), an error, an alert or an e-mail.

One child (Jacob) is loaded from feeds with a GP, a school and two carers; three services
register with him, and a fourth user opens emergency access (still running after), before
he is shielded; then his local index team registers and takes the lead. Every web user and
every kind of API client then searches, reads, tries to register and to open emergency
access, and presses every involvement button with the ids of his involvements. Every
answer (and every alert and e-mail afterwards) is read for every secret; a leak is named
with its channel and reader, and all are reported at once.

The local index team of a child is the index team of any council area of an organisation
that has worked with it (`record.child_areas`): Camden (the feeds' GP and school, Alice's
school, Ian's council) and, because Charlie's Hackney council registered, Hackney. An index
team of a third area (Islington) stands for an index team that is not the child's.

Positive controls, so the test can fail: the same secrets are read by the same checks from
the record of the child before shielding (an involved user, web and API), from the record
Camden's index team sees after (web and API), and from the alerts of Hackney's index team.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.core import mail
from django.test import Client

from contactpoint.access.models import User
from contactpoint.access.permissions import Role
from contactpoint.ingest.loader import load_folder
from contactpoint.practice.models import EmergencyAccess
from contactpoint.practice.record import child_areas
from contactpoint.registry import shield_tags
from contactpoint.registry.golden import golden_record
from contactpoint.registry.models import Child, CouncilArea, Involvement, Organisation
from tests.support.actors import AREA_A, AREA_B, Actors, organisation, signed_in, user
from tests.support.api import Caller, machine
from tests.support.children import load_children, one_at
from tests.support.feeds import feed_row, write_feed

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse as HttpResponse

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

# The feeds' organisations (tests/support/feeds.py ORGANISATIONS), but the school renamed: the
# standard one shares its name with Alice's school, whose name every user there may see.
ORGANISATIONS = (
    "code,kind,name,council_area_code,council_area_name,address_line1,town,postcode,phone,email\n"
    "A81001,gp_practice,Elm Tree Surgery,E09000007,Camden,1 High Street,London,NW1 1AA,"
    "020 7946 0000,surgery@example.nhs.uk\n"
    "100001,school,Hollyfield Primary School,E09000007,Camden,2 School Road,London,NW1 2AB,"
    "020 7946 0001,office@hollyfield.example\n"
)
CARERS = dict(
    carer1_given_name="Rosalind",
    carer1_family_name="Quarrington",
    carer1_relationship="mother",
    carer1_parental_responsibility="Y",
    carer1_phone="07700 900417",
    carer1_email="rosalind.quarrington@example.com",
    carer2_given_name="Desmond",
    carer2_family_name="Quarrington",
    carer2_relationship="father",
    carer2_parental_responsibility="Y",
    carer2_phone="07700 900418",
)
NURSE = {"role": "school_nurse", "job_title": "Specialist School Nurse", "phone": "020 7946 0717"}
SOCIAL_WORKER = {
    "role": "social_worker",
    "job_title": "Senior Social Worker",
    "phone": "020 7946 0818",
}
# Hackney's case-management system registers for its early-help worker, a user of the
# council whom it names (the name and e-mail come from her account).
EARLY_HELP_WORKER = ("Wilhelmina Thorncastle", "w.thorncastle@hackney.example")
EARLY_HELP = {
    "role": "early_help",
    "practitioner": EARLY_HELP_WORKER[1],
    "job_title": "Family Support Worker",
    "phone": "020 7946 0919",
}
INDEX_TEAM = {
    "role": "health_visitor",
    "job_title": "Index Team Coordinator",
    "phone": "020 7946 0626",
}
# What a user who may not register types when they try: nothing here is a secret.
ATTEMPT = {"role": "youth_offending_worker", "job_title": "Caseworker", "phone": "020 7946 0999"}
EXPLANATION = "Police called about the child at the address tonight"
SEARCH = {
    "purpose": "safeguarding",
    "family_name": "Wright",
    "given_name": "Jacob",
    "dob-day": "15",
    "dob-month": "01",
    "dob-year": "2012",
}
API_SEARCH = {
    "purpose": "safeguarding",
    "family_name": "Wright",
    "given_name": "Jacob",
    "date_of_birth": "2012-01-15",
}
ACTIONS = ("confirm", "caf", "lead", "contact-request")  # then "end", once all have pressed


@dataclass(frozen=True)
class Secret:
    label: str
    value: str
    on_record: bool = True  # shown on the full record (an involvement's role code is not)
    later: bool = False  # comes with the index team's registration, after shielding

    def pattern(self) -> re.Pattern[str]:
        # Whole words only: "N16" must not match inside a CSRF token or an identifier.
        return re.compile(rf"(?<![0-9A-Za-z]){re.escape(self.value)}(?![0-9A-Za-z])", re.I)


def secrets_of(jacob: Child, actors: Actors) -> list[Secret]:
    gold = golden_record(jacob.pk)
    assert gold is not None and gold.nhs_number is not None
    org = actors.council_b.name
    return [
        Secret("address", "4 Test Road"),
        Secret("postcode", "N16 7AB"),
        Secret("postcode district", "N16"),
        Secret("NHS number", gold.nhs_number.value),
        Secret("school", "Hollyfield Primary School"),
        Secret("school's phone", "020 7946 0001"),
        Secret("school's e-mail", "office@hollyfield.example"),
        Secret("GP", "Elm Tree Surgery"),
        Secret("GP's phone", "020 7946 0000"),
        Secret("GP's e-mail", "surgery@example.nhs.uk"),
        Secret("carer's given name", "Rosalind"),
        Secret("carer's given name", "Desmond"),
        Secret("carers' family name", "Quarrington"),
        Secret("carer's phone", "07700 900417"),
        Secret("carer's phone", "07700 900418"),
        Secret("carer's e-mail", "rosalind.quarrington@example.com"),
        Secret("nurse", actors.alice.name),
        Secret("nurse's e-mail", actors.alice.email),
        Secret("nurse's phone", NURSE["phone"]),
        Secret("nurse's job title", NURSE["job_title"]),
        Secret("nurse's organisation", actors.school_a.name),
        Secret("nurse's role", "School nurse"),
        Secret("nurse's role code", "school_nurse", on_record=False),
        Secret("social worker", actors.charlie.name),
        Secret("social worker's e-mail", actors.charlie.email),
        Secret("social worker's phone", SOCIAL_WORKER["phone"]),
        Secret("social worker's job title", SOCIAL_WORKER["job_title"]),
        Secret("social worker's organisation", org),
        Secret("social worker's role", "Social worker"),
        Secret("social worker's role code", "social_worker", on_record=False),
        Secret("early-help worker", EARLY_HELP_WORKER[0]),
        Secret("early-help worker's e-mail", EARLY_HELP_WORKER[1]),
        Secret("early-help worker's phone", EARLY_HELP["phone"]),
        Secret("early-help worker's job title", EARLY_HELP["job_title"]),
        Secret("early-help role", "Early help worker"),
        Secret("early-help role code", "early_help", on_record=False),
        Secret("GP role", "GP practice"),
        Secret("index team officer", actors.ian.name, later=True),
        Secret("index team officer's phone", INDEX_TEAM["phone"], later=True),
        Secret("index team officer's job title", INDEX_TEAM["job_title"], later=True),
        Secret("index team's organisation", actors.council_a.name, later=True),
        Secret("index team's role", "Health visitor", later=True),
        Secret("index team's role code", "health_visitor", on_record=False, later=True),
    ]


@dataclass
class Reader:
    """Someone who reads a channel: a user or an API client, and what is theirs anyway."""

    name: str
    own: frozenset[str]  # their own name, e-mail and organisation: not secrets to them


@dataclass
class Leaks:
    secrets: list[Secret]
    found: list[str] = field(default_factory=list)
    checked: Counter[str] = field(default_factory=Counter)

    def seen(self, text: str, among: Iterable[Secret] | None = None) -> set[str]:
        """The values of the secrets this text holds."""
        plain = html.unescape(text)
        return {s.value for s in among or self.secrets if s.pattern().search(plain)}

    def check(
        self, reader: Reader, channel: str, text: str, secrets: Iterable[Secret] = ()
    ) -> None:
        self.checked[reader.name] += 1
        plain = html.unescape(text)
        for secret in secrets or self.secrets:
            if secret.value not in reader.own and secret.pattern().search(plain):
                self.found.append(f"{reader.name} / {channel}: {secret.label} {secret.value!r}")

    def answer(self, reader: Reader, channel: str, response: HttpResponse) -> HttpResponse:
        """Check everything an HTTP answer carries: the body, where it sends the reader, and
        every address it went through."""
        parts = [response.content.decode(), response.get("Location", "")]
        parts += [url for url, _ in getattr(response, "redirect_chain", [])]
        self.check(reader, f"{channel} ({response.status_code})", "\n".join(parts))
        return response


def page_text(client: Client, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, (path, response.status_code)
    return str(response.content.decode())


def search_page(client: Client) -> str:
    response = client.post("/search", SEARCH, follow=True)
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def load_jacob(feeds: Path, tmp_path: Path) -> Child:
    """The four made-up children, then Jacob's carers from a social-care feed."""
    (feeds / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    jacob = load_children(feeds)["jacob"]
    gold = golden_record(jacob.pk)
    assert gold is not None and gold.nhs_number is not None
    more = tmp_path / "social_care"
    more.mkdir()
    (more / "organisations.csv").write_text(ORGANISATIONS, encoding="utf-8")
    row = feed_row(
        record_id="CSC-000000004",
        as_at="2026-10-01",
        given_name="Jacob",
        family_name="Wright",
        date_of_birth="2012-01-15",
        sex="M",
        address_line1="4 Test Road",
        town="London",
        postcode="N16 7AB",
        nhs_number=gold.nhs_number.value,
        **CARERS,
    )
    write_feed(more, "council_social_care", [row])
    load_folder(more)
    jacob.refresh_from_db()
    return jacob


def islington(actors: Actors) -> tuple[Organisation, User]:
    """An index team that is not the child's: Islington's, and Iris in it."""
    area = CouncilArea.objects.create(code="E09000019", name="Islington")
    council = organisation("TISLINGTON", "council_team", "Islington Children's Services", area)
    iris = user("iris@council-c.example", "Iris Irwin", council, Role.INDEX_TEAM, actors.secrets)
    return council, iris


def user_reader(u: User) -> Reader:
    return Reader(f"{u.name} ({u.role})", frozenset({u.name, u.email, u.organisation.name}))


# The channels ---------------------------------------------------------------------------


def web_channels(
    leaks: Leaks, reader: Reader, client: Client, jacob: Child, involvement_ids: list[str]
) -> None:
    """Search, record, register, emergency access and every button, as one web user."""
    record = f"/children/{jacob.cpid}"
    leaks.answer(reader, "record before a search", client.get(record))
    found = leaks.answer(reader, "search", client.post("/search", SEARCH, follow=True))
    if found.status_code == 200:  # the child may show, by name and year of birth only
        assert "Jacob Wright" in found.content.decode(), reader.name
    leaks.answer(reader, "record", client.get(record))
    leaks.answer(reader, "register", client.post(f"{record}/involvements", ATTEMPT, follow=True))
    leaks.answer(reader, "register, incomplete", client.post(f"{record}/involvements", {}))
    leaks.answer(reader, "register, by GET", client.get(f"{record}/involvements", follow=True))
    emergency = f"{record}/emergency-access"
    leaks.answer(reader, "emergency access form", client.get(emergency, follow=True))
    opened = client.post(emergency, {"reason": "missing", "explanation": EXPLANATION}, follow=True)
    leaks.answer(reader, "emergency access", opened)
    leaks.answer(reader, "emergency access, incomplete", client.post(emergency, {}, follow=True))
    unknown = "/involvements/00000000-0000-0000-0000-000000000001/confirm"
    leaks.answer(reader, "an unknown involvement", client.post(unknown, follow=True))
    for pk in involvement_ids:
        for name in ACTIONS:
            path = f"/involvements/{pk}/{name}"
            leaks.answer(reader, f"{name} {pk}", client.post(path, {"exists": "yes"}, follow=True))
        by_get = client.get(f"/involvements/{pk}/confirm", follow=True)
        leaks.answer(reader, f"confirm {pk}, by GET", by_get)


def api_channels(
    leaks: Leaks, reader: Reader, caller: Caller, jacob: Child, ids: list[str]
) -> None:
    """Search, record, register and every involvement operation, as one API client."""
    record = f"/children/{jacob.cpid}"
    leaks.answer(reader, "API record before a search", caller.get(record))
    found = leaks.answer(reader, "API search", caller.post("/children/search", API_SEARCH))
    if found.status_code == 200:
        assert [c["family_name"] for c in found.json()["candidates"]] == ["Wright"], reader.name
    leaks.answer(reader, "API record", caller.get(record))
    attempt = {**ATTEMPT, "practitioner": "pat.caseworker@example.org"}
    leaks.answer(reader, "API register", caller.post(f"{record}/involvements", attempt))
    leaks.answer(reader, "API register, malformed", caller.post(f"{record}/involvements", {}))
    leaks.answer(reader, "API emergency access", caller.post(f"{record}/emergency-access", {}))
    for pk in ids:
        for name in ("confirm", "caf", "lead"):
            answer = caller.post(f"/involvements/{pk}/{name}", {"exists": True})
            leaks.answer(reader, f"API {name} {pk}", answer)


def end_all(leaks: Leaks, readers: list[tuple[Reader, Client | Caller]], ids: list[str]) -> None:
    """The last button: ending an involvement (after everyone has pressed the others)."""
    for reader, who in readers:
        for pk in ids:
            if isinstance(who, Caller):
                leaks.answer(reader, f"API end {pk}", who.post(f"/involvements/{pk}/end"))
            else:
                asked = who.post(f"/involvements/{pk}/end", follow=True)  # are you sure?
                leaks.answer(reader, f"end, asked {pk}", asked)
                answer = who.post(f"/involvements/{pk}/end", {"confirmed": "yes"}, follow=True)
                leaks.answer(reader, f"end {pk}", answer)


# The test -------------------------------------------------------------------------------


@dataclass
class World:
    """Jacob, every web user signed in, and an API client of every kind."""

    actors: Actors
    jacob: Child
    iris: User  # Islington's index team: not Jacob's
    web: dict[str, Client]  # by e-mail
    callers: dict[str, Caller]  # by name
    api_readers: dict[str, Reader]  # by name

    @property
    def record(self) -> str:
        return f"/children/{self.jacob.cpid}"

    def client(self, u: User) -> Client:
        return self.web[u.email]

    def denied_users(self) -> list[User]:
        """Everyone but Jacob's local index teams (Camden's Ian and Hackney's Isla)."""
        everyone = [*self.actors.all(), self.iris]
        return [u for u in everyone if u not in (self.actors.ian, self.actors.isla)]

    def denied_clients(self) -> list[str]:
        return [n for n in self.callers if n not in ("API index team, Camden", LOCAL_B)]


LOCAL_B = "API index team, Hackney"


@pytest.fixture
def world(feeds: Path, tmp_path: Path, actors: Actors) -> World:
    jacob = load_jacob(feeds, tmp_path)
    council_c, iris = islington(actors)
    name, email = EARLY_HELP_WORKER
    user(email, name, actors.council_b, Role.PRACTITIONER, actors.secrets)
    clients = {
        "API practitioner, school A": machine(actors, actors.school_a, Role.PRACTITIONER),
        "API practitioner, Hackney": machine(actors, actors.council_b, Role.PRACTITIONER),
        "API index team, Camden": machine(actors, actors.council_a, Role.INDEX_TEAM),
        LOCAL_B: machine(actors, actors.council_b, Role.INDEX_TEAM),
        "API index team, Islington": machine(actors, council_c, Role.INDEX_TEAM),
        "API privacy officer, school A": machine(actors, actors.school_a, Role.PRIVACY_OFFICER),
        "API national": machine(actors, actors.national, Role.NATIONAL_ADMIN),
    }
    return World(
        actors=actors,
        jacob=jacob,
        iris=iris,
        web={u.email: signed_in(u) for u in [*actors.all(), iris]},
        callers={name: Caller(m) for name, m in clients.items()},
        api_readers={
            name: Reader(name, frozenset({m.client.organisation.name}))
            for name, m in clients.items()
        },
    )


def before_shielding(world: World, leaks: Leaks) -> None:
    """Three services register; Bob (Alice's school, not yet involved) opens emergency
    access, and his privacy officer is told. Control: an involved user and client read
    every secret there is so far, through the same checks."""
    a, record = world.actors, world.record
    charlie, bob, alice = (world.client(u) for u in (a.charlie, a.bob, a.alice))
    assert "N16" in leaks.seen(search_page(charlie))  # the district of a child not shielded
    assert charlie.post(f"{record}/involvements", SOCIAL_WORKER).status_code == 302
    search_page(bob)
    access = {"reason": "missing", "explanation": EXPLANATION}
    assert bob.post(f"{record}/emergency-access", access).status_code == 302
    search_page(alice)
    assert alice.post(f"{record}/involvements", NURSE).status_code == 302
    hackney = world.callers["API practitioner, Hackney"]
    hackney.post("/children/search", API_SEARCH)
    assert hackney.post(f"{record}/involvements", EARLY_HELP).status_code == 201

    so_far = [s for s in leaks.secrets if not s.later]
    shown = {s.value for s in so_far if s.on_record}
    missing = shown - leaks.seen(page_text(charlie, record), so_far)
    assert not missing, f"an involved user's page lacks {missing}"
    missing = shown - leaks.seen(hackney.get(record).content.decode(), so_far)
    assert not missing, f"an involved client's API record lacks {missing}"


def shield_and_act_as_its_index_team(world: World, leaks: Leaks) -> None:
    """Shield Jacob; Camden's index team registers and takes the lead, which raises
    alerts. Control: it sees every secret (web and API), and Hackney's team is told."""
    a, record = world.actors, world.record
    shield_tags.shield([world.jacob.pk])
    world.jacob.refresh_from_db()
    # Charlie's council registered, so Hackney's index team is the child's as well.
    assert child_areas(world.jacob.pk) == {AREA_A, AREA_B}
    ian = world.client(a.ian)
    assert ian.post(f"{record}/involvements", INDEX_TEAM).status_code == 302
    theirs = one_at(a.council_a, child=world.jacob)
    assert ian.post(f"/involvements/{theirs.pk}/lead").status_code == 302

    every = {s.value for s in leaks.secrets if s.on_record}
    missing = every - leaks.seen(page_text(ian, record))
    assert not missing, f"Camden's index team's page lacks {missing}"
    camden = world.callers["API index team, Camden"].get(record)
    assert camden.json()["view"] == "full"
    missing = every - leaks.seen(camden.content.decode())
    assert not missing, f"Camden's index team's API record lacks {missing}"
    told = leaks.seen(page_text(world.client(a.isla), "/alerts"))
    assert {a.ian.name, INDEX_TEAM["phone"]} <= told, "the alerts check reads nothing"
    assert world.callers[LOCAL_B].get(record).json()["view"] == "full"


def everyone_else_everywhere(world: World, leaks: Leaks) -> None:
    """Every other user and client through every channel; nothing of theirs may stick."""
    jacob = world.jacob
    ids = [str(pk) for pk in Involvement.objects.filter(child=jacob).values_list("pk", flat=True)]
    assert len(ids) == 6  # GP and school (feeds), social worker, nurse, early help, index team
    involvements, emergencies = Involvement.objects.count(), EmergencyAccess.objects.count()
    users = [(user_reader(u), world.client(u)) for u in world.denied_users()]
    clients = [(world.api_readers[n], world.callers[n]) for n in world.denied_clients()]
    for reader, client in users:
        web_channels(leaks, reader, client, jacob, ids)
    for reader, caller in clients:
        api_channels(leaks, reader, caller, jacob, ids)
    end_all(leaks, [*users, *clients], ids)
    if Involvement.objects.count() != involvements:
        leaks.found.append("someone not allowed registered an involvement")
    if EmergencyAccess.objects.count() != emergencies:
        leaks.found.append("someone not allowed opened emergency access")
    if Involvement.objects.filter(child=jacob, end_date__isnull=False).exists():
        leaks.found.append("someone not allowed ended an involvement")


def alerts_and_mail(world: World, leaks: Leaks) -> None:
    """Every user's alerts after all of that, and every e-mail sent on the way (which holds
    no child data at all: not even the name or the contactpoint ID)."""
    for u in world.denied_users():
        reader, client = user_reader(u), world.client(u)
        leaks.answer(reader, "alerts", client.get("/alerts"))
        leaks.answer(reader, "emergency access reviews", client.get("/emergency-access"))
    assert mail.outbox, "alerts were e-mailed"
    anyone = Reader("any e-mail recipient", frozenset())
    identity = [Secret("child's name", "Jacob"), Secret("contactpoint ID", world.jacob.cpid)]
    for message in mail.outbox:
        text = json.dumps([message.subject, message.body, _alternatives(message)])
        channel = f"e-mail to {', '.join(message.to)}"
        leaks.check(anyone, channel, text, [*leaks.secrets, *identity])


def _alternatives(message: Any) -> list[Any]:
    return list(getattr(message, "alternatives", []))


def test_a_shielded_childs_details_reach_no_one_but_its_local_index_team_by_any_channel(
    world: World,
) -> None:
    leaks = Leaks(secrets_of(world.jacob, world.actors))
    before_shielding(world, leaks)
    shield_and_act_as_its_index_team(world, leaks)
    everyone_else_everywhere(world, leaks)
    alerts_and_mail(world, leaks)
    readers = {user_reader(u).name for u in world.denied_users()} | set(world.denied_clients())
    assert readers <= set(leaks.checked)
    assert not leaks.found, f"{len(leaks.found)} leaks:\n" + "\n".join(leaks.found)
