"""The authorisation matrix: every endpoint, tried by every kind of caller.

Web pages are tried by each role, by a user of another area, by a suspended user, by a
user who has given a password but no second factor, and by nobody. API operations are
tried by machine clients of each role and area, a disabled client, and no token. The
expected answers are written out here by hand, independently of the decider, so a
wrong grant in `contactpoint.access.permissions` shows up as a mismatch.

Each request runs in a savepoint that is rolled back, so the cases do not disturb one
another (a disabled user, a withdrawn accreditation, a signed-out session).
"""

from __future__ import annotations

import copy
import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.db import transaction
from django.test import Client
from django.urls import get_resolver, resolve
from django.utils import timezone

from contactpoint.access import clients
from contactpoint.access.models import TotpDevice, User
from contactpoint.access.permissions import Role
from contactpoint.access.signin import PENDING
from contactpoint.api.api import operations
from contactpoint.registry import retention_facts
from contactpoint.registry.children import ciphers_for
from tests.support.actors import Actors, signed_in, user
from tests.support.urls import walk

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

EVERYONE = frozenset(
    {"anonymous", "pending", "suspended", "alice", "charlie", "petra", "ian", "isla", "nadia"}
)
SIGNED_IN = frozenset({"alice", "charlie", "petra", "ian", "isla", "nadia"})
NOBODY: frozenset[str] = frozenset()
INFO_PAGES = ("help", "contact", "accessibility", "privacy")  # the footer's public pages


def only(*names: str) -> frozenset[str]:
    return frozenset(names)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # {bob}, {charlie}, {self}, {own_app}, {school_a}, {council_b} are filled in
    allowed: frozenset[str]
    data: dict[str, str] | None = None


TODAY = dt.date.today()
EXPIRES = {"expires-day": "1", "expires-month": "1", "expires-year": str(TODAY.year + 1)}
MANAGE_A = only("ian", "nadia")
MANAGE_B = only("isla", "nadia")
# Practitioners and the local index teams hold the child permissions; petra (privacy
# officer) only the review of emergency access; nadia (national administrator) none.
CHILD_USERS = only("alice", "charlie", "ian", "isla")
SEARCH = {
    "purpose": "starting_work",
    "family_name": "Hartley",
    "given_name": "Amelia",
    **{"dob-day": "4", "dob-month": "3", "dob-year": "2015"},
}
REGISTER = {"role": "early_help", "job_title": "Early help worker", "phone": "020 7946 0999"}
EMERGENCY = {"reason": "missing", "explanation": "The child has not come home; police searching"}
ANSWER = {"answer": "contacted"}
# The privacy officer's workspace: an alert about alice (school A), made in web_children.
MISUSE_ALERT = "7e0c5a52-3b9e-4c47-9a1e-5f0d2c6b8a31"
REVIEW_ALERT = {"outcome": "advice", "note": "Spoke to the user about the record"}
SUSPEND = {"reason": "While the alert about them is looked into"}
SHIELD = {"reason": "other", "explanation": "An explanation the second person will read"}
STATUTORY = {"reason": "serious_case_review", "explanation": "Serious case review SCR-2026-014"}
EXTEND = {"extension": "none"}
RECTIFY = {"field": "sex", "value": "F", "asked_by": "young_person"}
UNKNOWN_ID = "0b7c4c1e-51a3-4d6f-9a57-3d5f2c7e9b10"
SUBJECT_ACCESS = {"relationship": "parent", "identity_check": "photo_id"}

WEB: list[Case] = [
    Case("GET", "/", EVERYONE),
    Case("GET", "/health", EVERYONE),
    *(Case("GET", f"/{info}", EVERYONE) for info in INFO_PAGES),
    Case("GET", "/sign-in", EVERYONE),
    Case("POST", "/sign-in", EVERYONE, {"email": "x@example.org", "password": "wrong"}),
    Case("GET", "/sign-in/forgotten-password", EVERYONE),
    Case("POST", "/sign-in/forgotten-password", EVERYONE, {"email": "x@example.org"}),
    Case("POST", "/sign-out", EVERYONE),
    Case("GET", "/sign-in/second-factor", only("pending")),
    Case("POST", "/sign-in/second-factor", only("pending"), {"code": "000000"}),
    Case("GET", "/sign-in/set-up", only("pending")),
    Case("POST", "/sign-in/set-up", only("pending"), {"code": "000000"}),
    Case("POST", "/sign-in/key/options", only("pending")),
    Case("POST", "/sign-in/key/verify", only("pending")),
    Case("GET", "/sign-in/confirm", SIGNED_IN),
    Case("POST", "/sign-in/confirm", SIGNED_IN, {"code": "000000"}),
    Case("POST", "/sign-in/confirm/key/options", SIGNED_IN),
    Case("POST", "/sign-in/confirm/key/verify", SIGNED_IN),
    Case("GET", "/account", SIGNED_IN),
    Case("GET", "/account/password", SIGNED_IN),
    Case("POST", "/account/password", SIGNED_IN, {"current_password": "wrong"}),
    Case("GET", "/account/authenticator", SIGNED_IN),
    Case("POST", "/account/authenticator", SIGNED_IN, {"code": "000000"}),
    Case("GET", "/account/security-key", SIGNED_IN),
    Case("POST", "/account/security-key/options", SIGNED_IN),
    Case("POST", "/account/security-key/verify", SIGNED_IN),
    Case("POST", "/account/factors/app/{own_app}/remove", SIGNED_IN),
    Case("POST", "/account/factors/app/{bobs_app}/remove", NOBODY),  # someone else's
    Case("GET", "/users", only("petra", "ian", "isla", "nadia")),
    Case("GET", "/users/new", only("ian", "isla", "nadia")),
    Case("POST", "/users/new", only("ian", "isla", "nadia"), {"email": ""}),
    Case("GET", "/users/{bob}", only("petra", "ian", "nadia")),
    Case("GET", "/users/{charlie}", only("isla", "nadia")),
    *[
        Case(method, f"/users/{{{who}}}/{action}", allowed)
        for who, allowed in (("bob", MANAGE_A), ("charlie", MANAGE_B))
        for action in ("enable", "recertify", "disable", "role", "reset-password")
        for method in ("GET", "POST")
    ],
    Case("POST", "/users/{self}/recertify", NOBODY),  # nobody vouches for themselves
    Case("POST", "/users/{self}/role", NOBODY, {"role": "national_admin"}),
    # Nobody gives a role at or above their own: a national administrator is made only at
    # the server, and the index team cannot stop the privacy officers who oversee it.
    Case("POST", "/users/{bob}/role", NOBODY, {"role": "national_admin"}),
    Case("POST", "/users/{bob}/role", only("nadia"), {"role": "index_team"}),
    Case("POST", "/users/{petra}/disable", only("nadia")),
    Case("POST", "/users/{petra}/reset-password", only("nadia")),
    # Without a working one-time link, nobody sets a password.
    Case("GET", "/activate/{link}", NOBODY),
    Case("POST", "/activate/{link}", NOBODY, {"new_password": "x", "confirm_password": "x"}),
    Case("GET", "/organisations", only("ian", "isla", "nadia")),
    Case("GET", "/organisations/{school_a}/accreditation", MANAGE_A),
    Case("GET", "/organisations/{council_b}/accreditation", MANAGE_B),
    # School A has a privacy officer: withdrawing would stop her, so only nationally.
    Case(
        "POST", "/organisations/{school_a}/accreditation", only("nadia"), {"decision": "withdraw"}
    ),
    Case("POST", "/organisations/{council_b}/accreditation", MANAGE_B, {"decision": "withdraw"}),
    # Granting or extending accreditation is national: councils do not certify themselves.
    Case("POST", "/organisations/{school_a}/accreditation", only("nadia"), EXPIRES),
    # The practitioner journey (web_children): {found} is a child every user found by a
    # search, {unfound} one nobody found nor works with (no browsing by ID). School A (alice)
    # and council B (charlie, isla) are involved with {found}; council B's {sensitive} too.
    Case("GET", "/search", CHILD_USERS),
    Case("POST", "/search", CHILD_USERS, SEARCH),
    # A results token is the searcher's own, in their session: anyone else's is not found
    # (test_search_results_pages proves the rule refuses those without the search grant).
    Case("GET", "/search/results/no-such-token", NOBODY),
    Case("GET", "/children/{found}", CHILD_USERS),
    Case("GET", "/children/{unfound}", NOBODY),
    Case("GET", "/children/{found}/print", CHILD_USERS),
    Case("GET", "/children/{unfound}/print", NOBODY),
    Case("GET", "/children/{found}/involvements", CHILD_USERS),
    Case("POST", "/children/{found}/involvements", CHILD_USERS, REGISTER),
    Case("POST", "/children/{unfound}/involvements", NOBODY, REGISTER),
    Case("GET", "/children/{found}/emergency-access", CHILD_USERS),
    Case("POST", "/children/{found}/emergency-access", CHILD_USERS, EMERGENCY),
    Case("POST", "/children/{unfound}/emergency-access", NOBODY, EMERGENCY),
    *[
        Case("POST", f"/involvements/{{{involvement}}}/{action}", allowed, {"exists": "yes"})
        for involvement, allowed in (
            ("school_a_inv", only("alice")),
            ("council_b_inv", only("charlie", "isla")),
            ("unfound_inv", NOBODY),
        )
        for action in ("confirm", "end", "lead", "caf")
    ],
    Case("GET", "/involvements/{school_a_inv}/end", CHILD_USERS),  # back to the record
    # Asking to be put in touch needs the full record: ian has only found the child.
    Case("POST", "/involvements/{sensitive}/contact-request", only("alice", "charlie", "isla")),
    Case("POST", "/handovers/{handover}", only("alice"), {"decision": "decline"}),
    Case("POST", "/contact-requests/{contact_request}", only("charlie", "isla"), ANSWER),
    Case("GET", "/alerts", SIGNED_IN),
    Case("GET", "/emergency-access", only("petra")),
    Case("GET", "/emergency-access/{emergency}", only("petra")),
    Case("POST", "/emergency-access/{emergency}", only("petra"), {"outcome": "justified"}),
    # Shielding (docs/shielding.md): {found} is in areas A and B (council B is involved), so
    # both index teams decide; {shielding} is ian's request to shield it, waiting.
    Case("GET", "/shielding", only("ian", "isla")),
    Case("GET", "/children/{found}/shielding", only("ian", "isla")),
    Case("POST", "/children/{found}/shielding", only("ian", "isla"), SHIELD),
    Case("POST", "/children/{unfound}/shielding", NOBODY, SHIELD),
    Case("GET", "/shielding/{shielding}", only("ian", "isla")),  # back to the queue
    Case("POST", "/shielding/{shielding}", only("ian"), {"decision": "withdraw"}),
    # Not the requester, and not another area's team: isla is of area B, ian asked.
    Case("POST", "/shielding/{shielding}", NOBODY, {"decision": "approve"}),
    # The privacy officer's workspace: petra's, for school A's users only ({bob}), never
    # another organisation's ({charlie}) nor her own suspension.
    Case("GET", "/oversight", only("petra")),
    Case("GET", "/oversight/alerts/" + MISUSE_ALERT, only("petra")),
    Case("POST", "/oversight/alerts/" + MISUSE_ALERT, only("petra"), REVIEW_ALERT),
    Case("GET", "/oversight/users/{bob}", only("petra")),
    Case("GET", "/oversight/users/{charlie}", NOBODY),
    Case("GET", "/oversight/users/{bob}/suspend", only("petra")),  # back to the history
    Case("POST", "/oversight/users/{bob}/suspend", only("petra"), SUSPEND),
    Case("POST", "/oversight/users/{charlie}/suspend", NOBODY, SUSPEND),
    Case("POST", "/oversight/users/{self}/suspend", NOBODY, SUSPEND),
    Case("GET", "/oversight/children", only("petra")),
    Case("GET", "/account/home-postcode", SIGNED_IN),
    Case("POST", "/account/home-postcode", SIGNED_IN, {"postcode": "NW1 4NP"}),
    # Subject access (docs/families.md): {found}'s local index teams, of areas A and B.
    Case("GET", "/children/{found}/subject-access", only("ian", "isla")),
    Case("POST", "/children/{found}/subject-access", only("ian", "isla"), SUBJECT_ACCESS),
    Case("POST", "/children/{unfound}/subject-access", NOBODY, SUBJECT_ACCESS),
    Case("GET", "/subject-access/{subject_access}", only("ian", "isla")),
    Case("GET", "/subject-access/{subject_access}.pdf", only("ian", "isla")),
    Case("GET", "/subject-access/{subject_access}/release", only("ian", "isla")),  # the report
    Case("POST", "/subject-access/{subject_access}/release", only("ian", "isla"), {"enquiry": "0"}),
    # Rectification and family notices (docs/families.md): {found}'s local index teams. An
    # unknown request or notice is not found, even to them.
    Case("GET", "/children/{found}/rectification", only("ian", "isla")),
    Case("POST", "/children/{found}/rectification", only("ian", "isla"), RECTIFY),
    Case("POST", "/children/{unfound}/rectification", NOBODY, RECTIFY),
    Case("GET", "/rectification", only("ian", "isla")),
    Case("POST", "/rectification/" + UNKNOWN_ID, NOBODY, {"action": "sent"}),
    Case("GET", "/family-notices", only("ian", "isla")),
    Case("GET", "/family-notices/" + UNKNOWN_ID, NOBODY),
    Case("POST", "/family-notices/" + UNKNOWN_ID, NOBODY, {"outcome": "sent", "how": "post"}),
    # Retention (docs/retention.md): {archived} was archived over a year ago, in area A
    # only: its index team reads it with a statutory reason; nobody without one.
    Case("GET", "/children/{archived}", NOBODY),
    Case("GET", "/children/{archived}/statutory-access", only("ian")),
    Case("POST", "/children/{archived}/statutory-access", only("ian"), STATUTORY),
    Case("GET", "/children/{found}/retention-extension", only("ian", "isla")),
    Case("POST", "/children/{found}/retention-extension", only("ian", "isla"), EXTEND),
    Case("POST", "/children/{unfound}/retention-extension", NOBODY, EXTEND),
    # Linkage review (docs/review.md): the local index teams; an item or decision of no
    # area of theirs, or none at all, is not found (test_review_pages tries real ones).
    Case("GET", "/linkage/review", only("ian", "isla")),
    Case("GET", "/linkage/review/" + UNKNOWN_ID, NOBODY),
    Case("POST", "/linkage/review/" + UNKNOWN_ID, NOBODY, {"decision": "new-child", "why": "x"}),
    Case("GET", f"/linkage/review/{UNKNOWN_ID}/merge", only("ian", "isla")),  # to the item
    Case("POST", f"/linkage/review/{UNKNOWN_ID}/merge", NOBODY, {"keep": "1", "gone": "2"}),
    Case("GET", "/linkage/decisions/" + UNKNOWN_ID, NOBODY),
    Case("GET", f"/linkage/decisions/{UNKNOWN_ID}/unmerge", NOBODY),
    Case("POST", f"/linkage/decisions/{UNKNOWN_ID}/unmerge", NOBODY, {"why": "x"}),
]


def refused(response: Any) -> bool:
    """A refusal: sent to sign in, forbidden, not found, or unauthorised."""
    if response.status_code in (401, 403, 404):
        return True
    if response.status_code == 302:
        return bool(urlsplit(response["Location"]).path == "/sign-in")
    return False


def fill(path: str, values: dict[str, str]) -> str:
    for key, value in values.items():
        path = path.replace("{" + key + "}", value)
    return path


def web_callers(actors: Actors) -> dict[str, tuple[Client, User | None]]:
    ivan = user("ivan@council-a.example", "Ivan Ives", actors.council_a, Role.INDEX_TEAM, {})
    User.objects.filter(pk=ivan.pk).update(vetting_checked_on=TODAY - dt.timedelta(days=4 * 365))
    pending = Client()
    session = pending.session
    session[PENDING] = {"user": str(actors.alice.id), "at": time.time(), "epoch": 0}
    session.save()
    callers: dict[str, tuple[Client, User | None]] = {
        "anonymous": (Client(), None),
        "pending": (pending, actors.alice),
        "suspended": (signed_in(ivan), ivan),
    }
    for name in ("alice", "charlie", "petra", "ian", "isla", "nadia"):
        someone: User = getattr(actors, name)
        callers[name] = (signed_in(someone), someone)
    return callers


def attempt(client: Client, case: Case, path: str, json: bool = False) -> Any:
    """Make one request inside a savepoint that is rolled back, keeping the cookies."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        sid = transaction.savepoint()
        send: Callable[..., Any] = getattr(client, case.method.lower())
        response = send(path, case.data or {})
        transaction.savepoint_rollback(sid)
    client.cookies = cookies
    return response


def run_matrix(
    cases: list[Case], callers: dict[str, Any], fill_for: Callable[[str, str], str]
) -> tuple[int, int, list[str], list[str]]:
    tried = expected_refusals = 0
    leaks: list[str] = []
    wrongly_refused: list[str] = []
    for case in cases:
        for name, caller in callers.items():
            path = fill_for(case.path, name)
            response = caller(case, path)
            tried += 1
            should_refuse = name not in case.allowed
            expected_refusals += should_refuse
            label = f"{case.method} {case.path} as {name}: {response.status_code}"
            if should_refuse and not refused(response):
                leaks.append(label)
            if not should_refuse and refused(response):
                wrongly_refused.append(label)
    return tried, expected_refusals, leaks, wrongly_refused


def web_children(actors: Actors, feeds: Path, users: list[User]) -> dict[str, str]:
    """What the practitioner pages' cases name: {found}, found by every user; {unfound},
    found by nobody; involvements with them; a handover and a contact request waiting for
    alice's and council B's answers; alice's emergency access to a third child."""
    from contactpoint.access.users import Actor
    from contactpoint.oversight.models import MisuseAlert
    from contactpoint.practice import involvements, shielding
    from contactpoint.practice.families import subject_access
    from contactpoint.practice.holders import finding
    from contactpoint.practice.involvements import Details, emergency
    from contactpoint.practice.models import Finding
    from contactpoint.registry.models import Involvement
    from tests.support.children import found as found_by
    from tests.support.children import load_children

    children = load_children(feeds)
    found, unfound = children["amelia"], children["maya"]
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(holder=finding(found.pk, u.principal(second_factor=True).key), found_at=now)
        for u in users
    )
    alice, charlie = Actor.of(actors.alice), Actor.of(actors.charlie)
    school = involvements.register(alice, found, Details("school_nurse", "Nurse", "1"))
    council = involvements.register(charlie, found, Details("social_worker", "SW", "2"))
    camhs = Details(
        "health_service",
        "CAMHS",
        "3",
        sensitive_category="mental_health",
        consent_basis="parental_consent",
    )
    sensitive = involvements.register(charlie, found, camhs)
    involvements.become_lead(alice, school.pk)
    handover = involvements.become_lead(charlie, council.pk)
    request = involvements.request_contact(alice, sensitive.pk)
    found_by(alice, children["oliver"])
    access = emergency.open_access(alice, children["oliver"], "missing", EMERGENCY["explanation"])
    feed = Involvement.objects.filter(child=unfound).first()
    MisuseAlert.objects.create(
        id=MISUSE_ALERT,
        kind="same_surname_or_address",
        principal=f"user:{actors.alice.pk}",
        organisation_id=actors.school_a.pk,
        first_day=TODAY,
        last_day=TODAY,
        raised_at=now,
        reason="1 child with the user's surname",
        count=1,
    )
    made = {
        "school_a_inv": school.pk,
        "council_b_inv": council.pk,
        "sensitive": sensitive.pk,
        "unfound_inv": feed.pk if feed else None,
        "handover": handover.pk if handover else None,
        "contact_request": request.pk,
        "emergency": access.pk,
        "shielding": shielding.request(
            Actor.of(actors.ian), found, "shield", "other", SHIELD["explanation"]
        ).pk,
        "subject_access": subject_access.record_request(
            Actor.of(actors.ian), found, "parent", "photo_id"
        ).pk,
    }
    archived = children["jacob"]  # retention: archived 400 days ago
    archived_on = TODAY - dt.timedelta(days=400)
    retention_facts.archive(ciphers_for({archived.pk}).values(), archived_on)
    return {"found": found.cpid, "unfound": unfound.cpid, "archived": archived.cpid} | {
        k: str(v) for k, v in made.items()
    }


def test_every_web_endpoint_refuses_exactly_whom_it_should(actors: Actors, feeds: Path) -> None:
    callers = web_callers(actors)
    bobs_app = TotpDevice.objects.get(user=actors.bob).pk
    common = {
        "bob": str(actors.bob.id),
        "charlie": str(actors.charlie.id),
        "petra": str(actors.petra.id),
        "link": "no-such-link",
        "school_a": actors.school_a.code,
        "council_b": actors.council_b.code,
        "bobs_app": str(bobs_app),
        **web_children(actors, feeds, [u for _, u in callers.values() if u]),
    }

    def fill_for(path: str, name: str) -> str:
        who = callers[name][1]
        own = TotpDevice.objects.filter(user=who).first() if who else None
        values = {
            **common,
            "self": str(who.id) if who else str(actors.alice.id),
            "own_app": str(own.pk if own else bobs_app),
        }
        return fill(path, values)

    tried, expected, leaks, wrong = run_matrix(
        WEB,
        {n: (lambda case, path, c=c: attempt(c, case, path)) for n, (c, _) in callers.items()},
        fill_for,
    )
    seen = expected - len(leaks) + len(wrong)
    print(f"web matrix: {tried} cases, {expected} refusals expected, {seen} seen")
    assert leaks == []
    assert wrong == []
    assert tried == len(WEB) * 9 and expected > tried // 2


def test_the_matrix_covers_every_web_route() -> None:
    sample = {
        k: "00000000-0000-0000-0000-000000000001" for k in ("bob", "charlie", "self", "petra")
    }
    sample |= {"link": "no-such-link"}
    sample |= {"own_app": "1", "bobs_app": "2", "school_a": "T1", "council_b": "T2"}
    sample |= {"found": "CP-1", "unfound": "CP-2", "archived": "CP-3"}
    journey = ("school_a_inv", "council_b_inv", "unfound_inv", "sensitive", "handover")
    sample |= dict.fromkeys((*journey, "contact_request", "emergency"), sample["bob"])
    sample |= {"shielding": sample["bob"], "subject_access": sample["bob"]}
    tried = {resolve(fill(c.path, sample)).route for c in WEB}
    routes = {
        route for route, _ in walk(get_resolver().url_patterns) if not route.startswith("api/")
    }
    assert routes - tried == set()


# Practitioner and index-team clients hold the child permissions; privacy officers and
# national administrators none.
CHILD_CLIENTS = only("practitioner", "index_a", "index_b")

API_CASES: list[Case] = [
    Case("GET", "/api/v1/account", only("practitioner", "privacy", "index_a", "index_b", "nat")),
    Case("GET", "/api/v1/users", only("privacy", "index_a", "index_b", "nat")),
    Case("GET", "/api/v1/users/{bob}", only("privacy", "index_a", "nat")),
    Case("GET", "/api/v1/users/{charlie}", only("index_b", "nat")),
    # No machine client vouches for a person: refused to every client, and audited.
    Case("POST", "/api/v1/users", NOBODY),
    Case("POST", "/api/v1/users/{bob}/enable", NOBODY),
    Case("POST", "/api/v1/users/{bob}/recertify", NOBODY),
    Case("POST", "/api/v1/users/{bob}/disable", only("index_a", "nat")),
    Case("POST", "/api/v1/users/{charlie}/disable", only("index_b", "nat")),
    Case("POST", "/api/v1/users/{bob}/role", NOBODY),
    # School A has a privacy officer, whom the index team may not stop.
    Case("POST", "/api/v1/organisations/{school_a}/accreditation", only("nat")),
    Case(
        "POST",
        "/api/v1/organisations/{school_a}/accreditation",
        only("nat"),
        {"withdrawn": "false"},
    ),
    # The practitioner journey. {found}: a child every client found by a search; {unfound}:
    # one no client found nor works with (no browsing by ID). {school_a_inv}, {council_b_inv}:
    # involvements of school A and council B with {found}; only their own clients change them.
    Case("POST", "/api/v1/children/search", CHILD_CLIENTS),
    Case("GET", "/api/v1/children/{found}", CHILD_CLIENTS),
    Case("GET", "/api/v1/children/{unfound}", NOBODY),
    Case("POST", "/api/v1/children/{found}/involvements", CHILD_CLIENTS),
    Case("POST", "/api/v1/children/{unfound}/involvements", NOBODY),
    *[
        Case("POST", f"/api/v1/involvements/{{{involvement}}}/{action}", allowed)
        for involvement, allowed in (
            ("school_a_inv", only("practitioner")),
            ("council_b_inv", only("index_b")),
        )
        for action in ("confirm", "end", "lead", "caf")
    ],
]

API_CALLERS = ("practitioner", "privacy", "index_a", "index_b", "nat", "disabled", "anonymous")


def api_body(case: Case, actors: Actors) -> dict[str, Any]:
    """A valid body for each operation: validation must not answer before the rule does."""
    if case.path.endswith("/accreditation"):
        withdrawn = (case.data or {}).get("withdrawn", "true") == "true"
        return {"expires_on": (TODAY + dt.timedelta(days=90)).isoformat(), "withdrawn": withdrawn}
    if case.path.endswith("/search"):
        named = {"family_name": "Hartley", "given_name": "Amelia"}
        return {"purpose": "starting_work", "date_of_birth": "2015-03-04", **named}
    if case.path.endswith("/involvements"):  # the practitioner is the caller's (api_acting_for)
        return {"role": "early_help", "practitioner": "", "phone": "0207 555 0101"}
    if case.path.endswith("/caf"):
        return {"exists": True}
    return {}


def api_acting_for(caller: str, actors: Actors) -> str:
    """The practitioner a client registers for: a user of its organisation who may."""
    by_organisation = {
        actors.school_a.pk: actors.alice,
        actors.council_a.pk: actors.ian,
        actors.council_b.pk: actors.charlie,
    }
    made = {"practitioner": actors.school_a, "index_a": actors.council_a}
    organisation = made.get(caller, actors.council_b)
    return by_organisation[organisation.pk].email


def api_tokens(actors: Actors) -> dict[str, str]:
    from contactpoint.access.users import Actor

    nadia = Actor.of(actors.nadia)
    made = {
        "practitioner": (actors.school_a, Role.PRACTITIONER),
        "privacy": (actors.school_a, Role.PRIVACY_OFFICER),
        "index_a": (actors.council_a, Role.INDEX_TEAM),
        "index_b": (actors.council_b, Role.INDEX_TEAM),
        "nat": (actors.national, Role.NATIONAL_ADMIN),
        "disabled": (actors.council_a, Role.INDEX_TEAM),
    }
    tokens = {}
    for name, (organisation, role) in made.items():
        client, secret = clients.create_client(
            nadia, name=name, organisation=organisation, role=role
        )
        tokens[name] = clients.issue_token(client.client_id, secret)[0]
        if name == "disabled":
            clients.disable_client(nadia, client)
    return tokens


def api_children(actors: Actors, feeds: Path) -> dict[str, str]:
    """The children and involvements the practitioner journey's cases name, every client
    having found {found}."""
    from contactpoint.access.models import ApiClient
    from contactpoint.access.users import Actor
    from contactpoint.practice import involvements
    from contactpoint.practice.holders import finding
    from contactpoint.practice.involvements import Details
    from contactpoint.practice.models import Finding
    from tests.support.children import found as found_by
    from tests.support.children import load_children

    children = load_children(feeds)
    found, unfound = children["amelia"], children["maya"]
    now = timezone.now()
    Finding.objects.bulk_create(
        Finding(holder=finding(found.pk, clients.client_principal(c).key), found_at=now)
        for c in ApiClient.objects.all()
    )
    for someone in (actors.alice, actors.charlie):
        found_by(Actor.of(someone), found)
    ours = {
        name: involvements.register(Actor.of(someone), found, Details(role, "Worker", "1")).pk
        for name, someone, role in (
            ("school_a_inv", actors.alice, "school_nurse"),
            ("council_b_inv", actors.charlie, "early_help"),
        )
    }
    return {"found": found.cpid, "unfound": unfound.cpid} | {k: str(v) for k, v in ours.items()}


def test_every_api_operation_refuses_exactly_whom_it_should(actors: Actors, feeds: Path) -> None:
    tokens = api_tokens(actors)
    journey = api_children(actors, feeds)
    http = Client()

    def caller(name: str) -> Callable[[Case, str], Any]:
        headers = {"Authorization": f"Bearer {tokens[name]}"} if name in tokens else {}

        def call(case: Case, path: str) -> Any:
            with transaction.atomic():
                sid = transaction.savepoint()
                send: Callable[..., Any] = getattr(http, case.method.lower())
                if case.method == "GET":
                    response = send(path, headers=headers)
                else:
                    body = api_body(case, actors)
                    if "practitioner" in body:
                        body["practitioner"] = api_acting_for(name, actors)
                    response = send(path, body, content_type="application/json", headers=headers)
                transaction.savepoint_rollback(sid)
            assert response.status_code != 422, (path, response.content)
            return response

        return call

    values = {
        "bob": str(actors.bob.id),
        "charlie": str(actors.charlie.id),
        "petra": str(actors.petra.id),
        "link": "no-such-link",
        "school_a": actors.school_a.code,
        **journey,
    }
    tried, expected, leaks, wrong = run_matrix(
        API_CASES, {n: caller(n) for n in API_CALLERS}, lambda path, _: fill(path, values)
    )
    seen = expected - len(leaks) + len(wrong)
    print(f"api matrix: {tried} cases, {expected} refusals expected, {seen} seen")
    assert leaks == []
    assert wrong == []
    assert tried == len(API_CASES) * len(API_CALLERS)


def test_the_api_matrix_covers_every_operation() -> None:
    covered = {(c.method, c.path.removeprefix("/api/v1").split("{")[0]) for c in API_CASES}
    public = {("POST", "/oauth/token")}
    missing = {
        (op.method, op.path)
        for op in operations()
        if (op.method, op.path.split("{")[0]) not in covered and (op.method, op.path) not in public
    }
    assert missing == set()
