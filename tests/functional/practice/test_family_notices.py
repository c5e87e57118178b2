"""Family notices (docs/families.md): registering an involvement makes a notice due to the
local index team, unless the practitioner records that telling the family would put the
child at risk; the team generates the letter and records it sent, or why not.

Alice (school A, Camden) registers; Ian is area A's index team, Isla area B's. The
made-up children's GP (Elm Tree Surgery) and school (Parkside) come from the feeds.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor, Invalid, Refused
from contactpoint.audit.log import AuditUnavailable
from contactpoint.audit.models import Event
from contactpoint.practice import involvements
from contactpoint.practice.families import family_notices
from contactpoint.practice.involvements import Details
from contactpoint.practice.models import FamilyNotice
from contactpoint.registry import shield_tags
from contactpoint.registry.models import Child, Involvement, Organisation
from tests.support.actors import Actors, signed_in
from tests.support.api import Caller, find, machine
from tests.support.audit import audit_store_broken
from tests.support.children import at, found, load_children
from tests.support.events import details_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

SCHOOL_PHONE = "020 7946 1234"

SCHOOL_EMAIL = "office@school-a.example"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


@pytest.fixture
def school_a(actors: Actors) -> Organisation:
    """School A with its contact details (how the family reaches it)."""
    Organisation.objects.filter(pk=actors.school_a.pk).update(
        phone=SCHOOL_PHONE, email=SCHOOL_EMAIL, address_line1="9 Park Lane", postcode="NW1 9ZZ"
    )
    return Organisation.objects.get(pk=actors.school_a.pk)


def register(actors: Actors, child: Child, **more: Any) -> Involvement:
    alice = Actor.of(actors.alice)
    found(alice, child)
    return involvements.register(alice, child, Details("school_nurse", "Nurse", "0207", **more))


def outcome(notice: FamilyNotice) -> family_notices.Outcome:
    """What became of the notice, opened (its child's key exists)."""
    opened = family_notices.outcome_of(notice)
    assert opened is not None
    return opened


# The service ---------------------------------------------------------------------------


def test_a_registration_makes_a_notice_due_to_the_local_index_team(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    joined = register(actors, amelia)
    notice = FamilyNotice.objects.get()
    assert (notice.involvement_id, notice.child_id, notice.due) == (joined.pk, amelia.pk, True)
    assert (outcome(notice).status, outcome(notice).risk) == ("due", "")
    assert notice.area.code == actors.area_a.code
    assert list(family_notices.due(Actor.of(actors.ian))) == [notice]
    assert list(family_notices.due(Actor.of(actors.isla))) == []
    (event,) = Event.objects.filter(action="families:notice:record")
    assert event.child_id == amelia.pk and event.principal == f"user:{actors.alice.pk}"
    assert details_of(event)["notice"] == str(notice.pk)
    assert details_of(event)["decision"] == "due"


def test_a_risk_decision_makes_no_notice_due_and_is_recorded(
    children: dict[str, Child], actors: Actors
) -> None:
    register(actors, children["amelia"], notice_risk="harm_from_family")
    notice = FamilyNotice.objects.get()
    recorded = outcome(notice)
    assert (recorded.status, recorded.risk) == ("not_sent_risk", "harm_from_family")
    assert recorded.by_id == actors.alice.pk and not notice.due
    assert list(family_notices.due(Actor.of(actors.ian))) == []
    # The action says only that a decision was recorded; which, and why, are sealed.
    (event,) = Event.objects.filter(action="families:notice:record")
    assert details_of(event)["decision"] == "risk"
    assert details_of(event)["risk"] == "harm_from_family"
    with pytest.raises(Invalid, match="no longer due"):
        family_notices.mark_sent(Actor.of(actors.ian), notice.pk, "post")


def test_no_notice_row_says_in_clear_whether_or_why_the_family_was_not_told(
    children: dict[str, Child], actors: Actors
) -> None:
    register(actors, children["amelia"])
    register(actors, children["maya"], notice_risk="harm_from_family")
    told = FamilyNotice.objects.get(child=children["amelia"])
    family_notices.mark_not_sent(Actor.of(actors.ian), told.pk, "risk")
    rows = list(FamilyNotice.objects.values())
    codes = {*FamilyNotice.Status.values, *FamilyNotice.Risk.values, *FamilyNotice.NotSent.values}
    codes |= set(FamilyNotice.How.values)
    for row in rows:
        assert not codes & {v for v in row.values() if isinstance(v, str)}
        # Who recorded the risk or closed it is sealed too: no row names a user.
        assert not {str(actors.alice.pk), str(actors.ian.pk)} & {str(v) for v in row.values()}
    assert {len(bytes(r["outcome"])) for r in rows} == {len(bytes(rows[0]["outcome"]))}
    assert [r["due"] for r in rows] == [False, False]
    opened = sorted((outcome(n).status, outcome(n).risk) for n in FamilyNotice.objects.all())
    assert opened == [("not_sent_risk", ""), ("not_sent_risk", "harm_from_family")]


def test_a_risk_must_be_one_of_the_codes_and_a_wrong_one_registers_nothing(
    children: dict[str, Child], actors: Actors
) -> None:
    with pytest.raises(Invalid, match="put the child at risk"):
        register(actors, children["amelia"], notice_risk="Dad is violent")
    assert not at(actors.school_a)
    assert not FamilyNotice.objects.exists()


def test_a_sensitive_service_makes_no_notice(children: dict[str, Child], actors: Actors) -> None:
    register(
        actors,
        children["amelia"],
        sensitive_category="sexual_health",
        consent_basis="young_person_consent",
    )
    assert not FamilyNotice.objects.exists()


def test_the_letter_shows_the_joining_service_and_no_other_unless_the_team_chooses(
    children: dict[str, Child], actors: Actors, school_a: Organisation
) -> None:
    amelia = children["amelia"]
    register(actors, amelia)
    camhs = Details(
        "health_service",
        "CAMHS",
        "3",
        sensitive_category="mental_health",
        consent_basis="parental_consent",
    )
    found(Actor.of(actors.charlie), amelia)
    involvements.register(Actor.of(actors.charlie), amelia, camhs)
    notice = FamilyNotice.objects.get()
    ian = Actor.of(actors.ian)
    letter = family_notices.letter(ian, notice.pk)
    assert letter is not None
    assert (letter.child_name, letter.joined.organisation) == ("Amelia Hartley", school_a.name)
    assert (letter.joined.phone, letter.joined.email) == (SCHOOL_PHONE, SCHOOL_EMAIL)
    assert letter.joined.role == "School nurse" and "NW1 3AB" in letter.address
    text = family_notices.letter_text(letter)
    assert SCHOOL_PHONE in text and "9 Park Lane" in text
    # School A shares its name with the feeds' school: that one shows as "(school)".
    for other in ("Elm Tree", "(school)", "Hackney", "CAMHS", "Alice"):
        assert other not in text
    chosen = family_notices.letter(ian, notice.pk, with_services=True)
    assert chosen is not None
    named = family_notices.letter_text(chosen)
    assert "Elm Tree Surgery (gp practice)" in named
    assert "Parkside Primary School (school)" in named
    assert "Hackney" not in named  # never a sensitive service
    assert "020 7946 0000" not in named  # other services by name and role only
    generated = Event.objects.filter(action="families:notice:generate").order_by("index")
    assert [details_of(e)["with_services"] for e in generated] == [False, True]
    assert FamilyNotice.objects.get().generated_at is not None


def test_a_shielded_childs_letter_is_never_generated_and_needs_the_teams_review(
    children: dict[str, Child], actors: Actors, school_a: Organisation
) -> None:
    amelia = children["amelia"]
    register(actors, amelia)
    shield_tags.shield([amelia.pk])
    notice = FamilyNotice.objects.get()
    assert family_notices.letter(Actor.of(actors.ian), notice.pk) is None
    assert not Event.objects.filter(action="families:notice:generate").exists()
    page = html.unescape(signed_in(actors.ian).get(f"/family-notices/{notice.pk}").content.decode())
    assert "this child is shielded" in page.lower()
    for hidden in ("Test Road", "NW1 3AB", SCHOOL_PHONE, "Elm Tree", "Amelia"):
        assert hidden not in page
    assert signed_in(actors.ian).get(f"/family-notices/{notice.pk}?format=text").status_code == 200
    done = family_notices.mark_not_sent(Actor.of(actors.ian), notice.pk, "risk")
    assert (outcome(done).status, outcome(done).not_sent_reason) == ("not_sent_risk", "risk")


def test_only_the_local_index_team_sends_and_each_step_is_audited(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    register(actors, amelia)
    notice = FamilyNotice.objects.get()
    for outsider in (actors.isla, actors.alice, actors.charlie):
        with pytest.raises(Refused):
            family_notices.letter(Actor.of(outsider), notice.pk)
        with pytest.raises(Refused):
            family_notices.mark_sent(Actor.of(outsider), notice.pk, "post")
    with pytest.raises(Invalid, match="how you sent"):
        family_notices.mark_sent(Actor.of(actors.ian), notice.pk, "pigeon")
    with audit_store_broken(), pytest.raises(AuditUnavailable):
        family_notices.mark_sent(Actor.of(actors.ian), notice.pk, "post")
    assert outcome(FamilyNotice.objects.get()).status == "due"
    sent = outcome(family_notices.mark_sent(Actor.of(actors.ian), notice.pk, "post"))
    assert (sent.status, sent.how, sent.by_id) == ("sent", "post", actors.ian.pk)
    with pytest.raises(Invalid, match="no longer due"):
        family_notices.mark_not_sent(Actor.of(actors.ian), notice.pk, "already_told")
    actions = [e.action for e in Event.objects.filter(action__startswith="families:")]
    assert actions == ["families:notice:record", "families:notice:sent"]
    (event,) = Event.objects.filter(action="families:notice:sent")
    assert details_of(event) == {
        "notice": str(notice.pk),
        "involvement": str(notice.involvement_id),
        "how": "post",
    }


# The pages and the API -----------------------------------------------------------------


def text(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return html.unescape(response.content.decode())


def test_the_registration_form_records_the_risk_decision(
    children: dict[str, Child], actors: Actors
) -> None:
    amelia = children["amelia"]
    alice = signed_in(actors.alice)
    found(Actor.of(actors.alice), amelia)
    record = f"/children/{amelia.cpid}"
    assert "Telling the family would put the child at risk" in text(alice, record)
    form = {"role": "school_nurse", "job_title": "Nurse", "phone": "0207", "notice_at_risk": "yes"}
    missing = alice.post(f"{record}/involvements", form)
    assert missing.status_code == 400 and not FamilyNotice.objects.exists()
    made = alice.post(f"{record}/involvements", form | {"notice_risk": "enquiry"})
    assert made.status_code == 302
    assert outcome(FamilyNotice.objects.get()).status == "not_sent_risk"


def test_the_index_team_prints_the_letter_and_records_it_sent(
    children: dict[str, Child], actors: Actors, school_a: Organisation
) -> None:
    amelia = children["amelia"]
    alice = signed_in(actors.alice)
    found(Actor.of(actors.alice), amelia)
    posted = {"role": "school_nurse", "job_title": "Nurse", "phone": "0207"}
    assert alice.post(f"/children/{amelia.cpid}/involvements", posted).status_code == 302
    notice = FamilyNotice.objects.get()
    ian = signed_in(actors.ian)
    queue = text(ian, "/family-notices")
    assert amelia.cpid in queue and f"/family-notices/{notice.pk}" in queue
    assert "Amelia" not in queue
    letter = text(ian, f"/family-notices/{notice.pk}")
    assert "Amelia Hartley" in letter and SCHOOL_PHONE in letter and "Elm Tree" not in letter
    assert "Elm Tree Surgery" in text(ian, f"/family-notices/{notice.pk}?services=yes")
    plain = ian.get(f"/family-notices/{notice.pk}?format=text")
    assert plain["Content-Type"].startswith("text/plain") and SCHOOL_EMAIL in plain.content.decode()
    assert ian.post(f"/family-notices/{notice.pk}", {"outcome": "sent"}).status_code == 400
    done = ian.post(f"/family-notices/{notice.pk}", {"outcome": "sent", "how": "email"})
    assert done.status_code == 302 and done["Location"] == "/family-notices"
    assert outcome(FamilyNotice.objects.get()).status == "sent"
    assert "No family notice is due" in text(ian, "/family-notices")
    for outsider in (actors.isla, actors.alice):
        client = signed_in(outsider)
        assert client.get(f"/family-notices/{notice.pk}").status_code == 403
    assert signed_in(actors.alice).get("/family-notices").status_code == 403


def test_api_registration_with_and_without_the_risk_flag(
    children: dict[str, Child], actors: Actors
) -> None:
    school = Caller(machine(actors, actors.school_a, Role.PRACTITIONER))
    hackney = Caller(machine(actors, actors.council_b, Role.PRACTITIONER))
    amelia = children["amelia"]
    for caller in (school, hackney):
        find(caller, "Hartley", "Amelia", "2015-03-04")
    body = {"role": "school_nurse", "practitioner": actors.alice.email, "phone": "0207 555 0101"}
    path = f"/children/{amelia.cpid}/involvements"
    wrong = school.post(path, body | {"family_notice_risk": "because"})
    assert wrong.status_code == 400 and not FamilyNotice.objects.exists()
    assert school.post(path, body).status_code == 201
    risky = body | {
        "role": "social_worker",
        "practitioner": actors.charlie.email,
        "family_notice_risk": "young_person_asked",
    }
    assert hackney.post(path, risky).status_code == 201
    notices = {n.area.code: n for n in FamilyNotice.objects.select_related("area")}
    assert outcome(notices[actors.area_a.code]).status == "due"
    risk = outcome(notices[actors.area_b.code])
    assert (risk.status, risk.risk) == ("not_sent_risk", "young_person_asked")
    assert risk.by_id is None  # a system, not a person


def test_the_letter_is_dated_and_names_the_index_teams_contact(
    children: dict[str, Child], actors: Actors
) -> None:
    register(actors, children["amelia"])
    notice = FamilyNotice.objects.get()
    page = signed_in(actors.ian).get(f"/family-notices/{notice.pk}").content.decode()
    letter = html.unescape(page[page.index('id="letter"') :])
    today = timezone.localdate()
    assert f'id="letter-date">{today.day} {today:%B %Y}<' in letter
    assert 'id="team-contact"' in letter and actors.council_a.name in letter
