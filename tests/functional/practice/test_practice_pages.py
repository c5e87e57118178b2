"""The practitioner's pages through HTTP: search, the record's three views, registering,
alerts, emergency access and its review, shielding and sensitive services."""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from django.db.models import QuerySet
from django.test import Client, override_settings

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.access.models import User
from contactpoint.audit.models import Event
from contactpoint.practice.holders import finding
from contactpoint.practice.involvements import handovers
from contactpoint.practice.involvements.contact_requests import involvement_tag
from contactpoint.practice.models import Alert, ContactRequest, EmergencyAccess, Finding, Handover
from contactpoint.registry import shield_tags
from contactpoint.registry.involvement_facts import facts_one
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors, signed_in
from tests.support.children import at, load_children, one_at, roles_of
from tests.support.pages import criteria_for, dob, find, record_of

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NURSE = {"role": "school_nurse", "job_title": "School nurse", "phone": "020 7946 0101"}
SOCIAL_WORKER = {"role": "social_worker", "job_title": "Social worker", "phone": "020 7946 0202"}
EXPLANATION = "Police called about the child at the address tonight"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def html(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return str(response.content.decode())


def redirects_to(response: object, path: str) -> bool:
    status = getattr(response, "status_code", 0)
    return status == 302 and urlsplit(response["Location"]).path == path  # type: ignore[index]


def register(client: Client, child: Child, details: dict[str, str]) -> None:
    response = client.post(f"{record_of(child)}/involvements", details)
    assert redirects_to(response, record_of(child)), response.status_code


# Search ------------------------------------------------------------------------------------


def found_by(user: User, child: Child) -> QuerySet[Finding]:
    """The user's findings of the child."""
    return Finding.objects.filter(holder=finding(child.pk, f"user:{user.pk}"))


def test_a_search_with_a_typo_finds_the_child_and_shows_name_year_and_district_only(
    children: dict[str, Child], actors: Actors
) -> None:
    typed = criteria_for("amelia", given_name="Amelai", **dob("2015-04-03"))
    page = signed_in(actors.alice).post("/search", typed, follow=True).content.decode()
    results = page[page.index('id="results"') :]
    assert "Amelia Hartley" in results and "Born in 2015" in results and "NW1" in results
    assert f'href="{record_of(children["amelia"])}"' in results
    for hidden in ("NW1 3AB", "Test Road", "4 March", "Parkside", "Elm Tree"):
        assert hidden not in page
    assert found_by(actors.alice, children["amelia"]).count() == 1


def test_refused_criteria_show_a_message_at_each_field_and_keep_what_was_typed(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    typed = {"family_name": "Hart*", "dob-day": "31", "dob-month": "2", "dob-year": "2015"}
    response = alice.post("/search", typed)
    page = response.content.decode()
    assert response.status_code == 400
    assert "There is a problem" in page and page.startswith("<!DOCTYPE html>")
    for field, message in (
        ("purpose", "Select why you are searching"),
        ("family_name", "Family name cannot contain wildcards"),
        ("dob-day", "Date of birth must be a real date"),
    ):
        assert f'<a href="#{field}">{message}' in page
    assert 'value="Hart*"' in page and 'value="31"' in page
    too_little = {"purpose": "safeguarding", "family_name": "Hartley", **dob("2015-03-04")}
    page = alice.post("/search", too_little).content.decode()
    assert '<a href="#given_name">Add the child&#39;s given name or a postcode' in page
    assert not Finding.objects.exists()


def test_search_runs_only_on_a_post(children: dict[str, Child], actors: Actors) -> None:
    alice = signed_in(actors.alice)
    page = html(alice, "/search?" + "&".join(f"{k}={v}" for k, v in criteria_for("amelia").items()))
    assert 'method="post" action="/search"' in page
    assert "Amelia" not in page and "Search results" not in page
    assert not Finding.objects.exists()


def test_a_weak_search_says_add_a_detail(children: dict[str, Child], actors: Actors) -> None:
    weak = criteria_for("amelia", **dob("2016-03-04"))
    page = signed_in(actors.alice).post("/search", weak).content.decode()
    assert "No child matches what you entered closely enough" in page
    assert 'id="results"' not in page


@override_settings(CONTACTPOINT_SEARCHES_PER_HOUR=1)
def test_a_search_past_the_quota_is_refused_with_429(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    find(alice, "amelia")
    response = alice.post("/search", criteria_for("maya"))
    assert response.status_code == 429
    assert "as many searches as contactpoint allows" in response.content.decode()
    assert not found_by(actors.alice, children["maya"]).exists()


# The record --------------------------------------------------------------------------------


def test_a_record_opens_only_after_a_search(children: dict[str, Child], actors: Actors) -> None:
    child = children["oliver"]
    alice = signed_in(actors.alice)
    for path in (record_of(child), "/children/CP-0000-0000-0000-0", "/children/not-an-id"):
        page = html(alice, path, 404)
        assert "Search for the child first" in page and "Oliver" not in page
    find(alice, "oliver")
    assert "Oliver Smith-Jones" in html(alice, record_of(child))
    assert "Oliver Smith-Jones" in html(alice, record_of(child).lower())  # as typed
    html(signed_in(actors.bob), record_of(child), 404)  # what alice found is hers
    html(signed_in(actors.petra), record_of(child), 403)  # no record:read at all


def test_the_identity_view_says_how_many_services_and_shows_no_contacts(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    find(alice, "amelia")
    page = html(alice, record_of(children["amelia"]))
    assert "2 services are involved" in page and "4 March 2015" in page and "Female" in page
    for hidden in ("Test Road", "NW1", "Elm Tree", "Parkside", "Services involved", "NHS"):
        assert hidden not in page
    assert f'action="{record_of(children["amelia"])}/involvements"' in page
    assert f'href="{record_of(children["amelia"])}/emergency-access"' in page


def test_registering_opens_the_full_record_and_the_others_are_told_who_joined(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, charlie = signed_in(actors.alice), signed_in(actors.charlie)
    find(charlie, "amelia")
    register(charlie, child, SOCIAL_WORKER)
    find(alice, "amelia")
    register(alice, child, NURSE)
    page = html(alice, record_of(child))
    assert "Your involvement is registered" in page
    for shown in ("1 Test Road", "NW1 3AB", "Elm Tree Surgery", "Charlie Clark", "020 7946 0202"):
        assert shown in page
    assert "Kept by" in page and "as at 1 October 2026" in page
    assert "Alerts (1 new)" in html(charlie, "/search")
    alerts = html(charlie, "/alerts")
    assert "Another service has started working with a child" in alerts
    for shown in ("Alice Adams", "020 7946 0101", actors.alice.email, "School nurse"):
        assert shown in alerts
    assert "Amelia Hartley" in alerts  # charlie sees the child in full
    assert 'href="/alerts">Alerts<' in html(charlie, "/alerts")  # read now
    assert not Alert.objects.filter(recipient=actors.charlie, read_at__isnull=True).exists()


def test_registering_with_missing_details_shows_the_errors_at_the_fields(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice = signed_in(actors.alice)
    find(alice, "amelia")
    response = alice.post(f"{record_of(child)}/involvements", {"job_title": "Nurse"})
    page = response.content.decode()
    assert response.status_code == 400
    assert '<a href="#role">Select your role with the child' in page
    assert '<a href="#phone">Enter a phone number' in page and 'value="Nurse"' in page
    sensitive = {**NURSE, "sensitive_category": "mental_health"}
    page = alice.post(f"{record_of(child)}/involvements", sensitive).content.decode()
    assert '<a href="#consent_basis">Select the basis' in page
    register(alice, child, NURSE)
    again = alice.post(f"{record_of(child)}/involvements", NURSE)
    assert again.status_code == 400
    assert '<a href="#role">Your service is already registered' in again.content.decode()
    assert roles_of(Involvement.objects.filter(child=child)).count("school_nurse") == 1


def test_registering_needs_a_search_first(children: dict[str, Child], actors: Actors) -> None:
    child = children["maya"]
    response = signed_in(actors.alice).post(f"{record_of(child)}/involvements", NURSE)
    assert response.status_code == 404
    assert not at(actors.school_a, child=child)


def test_own_involvement_buttons_and_the_lead_handover(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, charlie = signed_in(actors.alice), signed_in(actors.charlie)
    for client, details in ((alice, NURSE), (charlie, SOCIAL_WORKER)):
        find(client, "amelia")
        register(client, child, details)
    mine = one_at(actors.school_a, child=child)
    theirs = one_at(actors.council_b, child=child)
    for name, data in (("confirm", {}), ("caf", {"exists": "yes"}), ("lead", {})):
        response = alice.post(f"/involvements/{mine.pk}/{name}", data)
        assert redirects_to(response, record_of(child))
    page = html(alice, record_of(child))
    assert "Your service is now the lead professional" in page
    assert "Exists: ask the lead professional" in page and "Lead professional</strong>" in page
    assert charlie.post(f"/involvements/{mine.pk}/end").status_code == 403  # not theirs
    # A service's refusal, after the page's rule let Charlie in, is audited like the rule's.
    (refusal,) = Event.objects.filter(outcome="refused", principal=f"user:{actors.charlie.pk}")
    assert refusal.action == "access:child:involvement:manage"
    asked = html(alice, f"/involvements/{mine.pk}/end")  # asks first
    assert "Are you sure you want to end your involvement?" in asked
    assert redirects_to(charlie.post(f"/involvements/{theirs.pk}/lead"), record_of(child))
    handover = Handover.objects.get(child_tag=handovers.child_tag(child.pk))
    alerts = html(alice, "/alerts")
    assert f'action="/handovers/{handover.pk}"' in alerts and "Charlie Clark" in alerts
    response = alice.post(f"/handovers/{handover.pk}", {"decision": "agree"})
    assert redirects_to(response, record_of(child))
    theirs.refresh_from_db()
    assert theirs.lead_professional
    again = alice.post(f"/handovers/{handover.pk}", {"decision": "agree"})
    assert again.status_code == 400 and "no longer waiting" in again.content.decode()
    assert alice.post(f"/involvements/{mine.pk}/end").status_code == 200  # asks, ends nothing
    mine.refresh_from_db()
    assert mine.end_date is None
    ended = alice.post(f"/involvements/{mine.pk}/end", {"confirmed": "yes"})
    assert redirects_to(ended, record_of(child))
    assert "Your involvement has ended" in html(alice, record_of(child))  # found today


def test_an_unknown_involvement_is_not_found(children: dict[str, Child], actors: Actors) -> None:
    alice = signed_in(actors.alice)
    unknown = "00000000-0000-0000-0000-000000000001"
    for path in (f"/involvements/{unknown}/confirm", f"/handovers/{unknown}"):
        assert alice.post(path).status_code == 404
    # Another child's involvement is not found either, until the child is found.
    school = Involvement.objects.filter(child=children["maya"]).first()
    assert school is not None
    assert alice.post(f"/involvements/{school.pk}/confirm").status_code == 404


# Emergency access -------------------------------------------------------------------------


def test_emergency_access_needs_the_second_factor_again_then_shows_the_contacts(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    alice = signed_in(actors.alice)
    find(alice, "maya")
    session = alice.session
    session[FACTOR_AT] = time.time() - 3600
    session.save()
    path = f"{record_of(child)}/emergency-access"
    response = alice.get(path)
    location = urlsplit(response["Location"])
    assert response.status_code == 302 and location.path == "/sign-in/confirm"
    assert [unquote(n) for n in parse_qs(location.query)["next"]] == [path]
    confirmed = alice.post("/sign-in/confirm?next=" + path, {"code": actors.code(actors.alice)})
    assert redirects_to(confirmed, path)
    form = html(alice, path)
    assert "privacy officer is told at once" in form and 'name="explanation"' in form
    short = alice.post(path, {"reason": "immediate_risk", "explanation": "too short"})
    assert short.status_code == 400 and '<a href="#explanation">' in short.content.decode()
    opened = alice.post(path, {"reason": "immediate_risk", "explanation": EXPLANATION})
    assert redirects_to(opened, record_of(child))
    page = html(alice, record_of(child))
    assert "You are using emergency access" in page and "3 Test Road" in page


def test_the_privacy_officer_is_told_and_reviews_emergency_access(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    alice, petra = signed_in(actors.alice), signed_in(actors.petra)
    find(alice, "maya")
    path = f"{record_of(child)}/emergency-access"
    assert redirects_to(
        alice.post(path, {"reason": "missing", "explanation": EXPLANATION}), record_of(child)
    )
    alerts = html(petra, "/alerts")
    assert "Emergency access to a child&#39;s record" in alerts and "Alice Adams" in alerts
    assert child.cpid in alerts and "Maya" not in alerts and "Okafor" not in alerts
    assert 'href="/emergency-access"' in alerts
    reviews = html(petra, "/emergency-access")
    assert EXPLANATION in reviews and child.cpid in reviews and "Alice Adams" in reviews
    assert "Maya" not in reviews and "Okafor" not in reviews
    access = EmergencyAccess.objects.get(user=actors.alice)
    missing = petra.post(f"/emergency-access/{access.pk}", {})
    assert missing.status_code == 400
    assert f'<a href="#outcome-{access.pk}">Select the outcome' in missing.content.decode()
    done = petra.post(f"/emergency-access/{access.pk}", {"outcome": "justified"})
    assert redirects_to(done, "/emergency-access")
    assert "No emergency access is waiting for review" in html(petra, "/emergency-access")
    access.refresh_from_db()
    assert (access.outcome, access.reviewed_by_id) == ("justified", actors.petra.pk)
    html(signed_in(actors.ian), "/emergency-access", 403)


# Shielding and sensitive services ---------------------------------------------------------


def test_a_shielded_child_shows_only_the_withheld_fields_except_to_its_local_index_team(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["jacob"]
    shield_tags.shield([child.pk])
    alice = signed_in(actors.alice)
    results = find(alice, "jacob")
    assert "Jacob Wright" in results and "N16" not in results
    page = html(alice, record_of(child))
    assert "This record is shielded: contact the local index team" in page
    assert "Jacob Wright" in page and child.cpid in page and "15 January 2012" in page
    for hidden in ("Test Road", "N16", "Parkside", "Elm Tree", "services are involved"):
        assert hidden not in page
    assert "/involvements" not in page and "emergency-access" not in page
    assert alice.post(f"{record_of(child)}/involvements", NURSE).status_code == 403
    assert alice.get(f"{record_of(child)}/emergency-access").status_code == 403
    full = html(signed_in(actors.ian), record_of(child))  # Camden's index team, no search
    for shown in ("4 Test Road", "N16 7AB", "Parkside Primary School", "Elm Tree Surgery"):
        assert shown in full
    html(signed_in(actors.isla), record_of(child), 404)


def test_a_sensitive_service_shows_to_others_only_as_an_additional_service(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["oliver"]
    alice, charlie = signed_in(actors.alice), signed_in(actors.charlie)
    find(charlie, "oliver")
    camhs = {
        "role": "health_service",
        "job_title": "CAMHS worker",
        "phone": "020 7946 0303",
        "sensitive_category": "mental_health",
        "consent_basis": "young_person_consent",
    }
    register(charlie, child, camhs)
    find(alice, "oliver")
    register(alice, child, NURSE)
    page = html(alice, record_of(child))
    assert "An additional service is involved" in page
    for hidden in ("Hackney", "Charlie Clark", "CAMHS", "020 7946 0303", "Mental health"):
        assert hidden not in page
    assert "Sensitive: shown only to your service" in html(charlie, record_of(child))
    sensitive = one_at(actors.council_b, child=child)
    assert facts_one(sensitive).sensitive_category == "mental_health"
    asked = alice.post(f"/involvements/{sensitive.pk}/contact-request")
    assert redirects_to(asked, record_of(child))
    request = ContactRequest.objects.get(involvement_tag=involvement_tag(sensitive.pk))
    alerts = html(charlie, "/alerts")
    assert "A practitioner asks to be put in touch" in alerts and "Alice Adams" in alerts
    assert f'action="/contact-requests/{request.pk}"' in alerts
    answered = charlie.post(f"/contact-requests/{request.pk}", {"answer": "contacted"})
    assert redirects_to(answered, record_of(child))
    request.refresh_from_db()
    assert request.status == ContactRequest.Status.CONTACTED
    assert alice.post(f"/contact-requests/{request.pk}", {"answer": "declined"}).status_code in (
        400,
        403,
    )


def test_every_page_of_the_journey_carries_a_csrf_token_on_each_form(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    find(alice, "amelia")
    for path in ("/search", record_of(children["amelia"])):
        page = html(alice, path)
        forms = re.findall(r"<form method=\"post\".*?</form>", page, re.S)
        assert forms and all("csrfmiddlewaretoken" in f for f in forms)
        assert "<script>" not in page and "style=" not in page
