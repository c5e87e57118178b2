"""The record as a practitioner reads it: who to contact at the top, with links to call and
write; a protective marking for paper; ending an involvement asks first."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.audit.models import Event
from contactpoint.practice.involvements import emergency
from contactpoint.practice.models import EmergencyAccess
from contactpoint.registry.models import Child, Involvement
from tests.support.actors import Actors, signed_in, user
from tests.support.children import PEOPLE, found, load_children, one_at
from tests.support.events import about

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NURSE = {"role": "school_nurse", "job_title": "School nurse", "phone": "020 7946 0101"}
SOCIAL_WORKER = {"role": "social_worker", "job_title": "Social worker", "phone": "020 7946 0202"}


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def search(client: Client, key: str, purpose: str = "starting_work") -> None:
    """Find one of tests/support/children.py's PEOPLE by name and date of birth (results: 303)."""
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    form = {"purpose": purpose, "family_name": family, "given_name": given}
    dob = {"dob-day": day, "dob-month": month, "dob-year": year}
    assert client.post("/search", {**form, **dob}).status_code == 303


def find_and_register(client: Client, child: Child, key: str, details: dict[str, str]) -> str:
    search(client, key)
    record = f"/children/{child.cpid}"
    assert client.post(f"{record}/involvements", details).status_code == 302
    return record


def both_registered(child: Child, actors: Actors) -> tuple[Client, str]:
    """Charlie, then Alice, registered with Amelia: Alice's client and the record's address."""
    alice, charlie = signed_in(actors.alice), signed_in(actors.charlie)
    find_and_register(charlie, child, "amelia", SOCIAL_WORKER)
    return alice, find_and_register(alice, child, "amelia", NURSE)


def test_who_to_contact_comes_first_with_links_to_call_and_write(
    children: dict[str, Child], actors: Actors
) -> None:
    alice, record = both_registered(children["amelia"], actors)
    page = alice.get(record).content.decode()
    top = page.index('id="who-to-contact"')
    assert top < page.index(">Identity<") and top < page.index(">Parents and carers<")
    contacts = page[top : page.index(">Identity<")]
    assert 'href="tel:02079460202"' in contacts and "Charlie Clark" in contacts
    assert f'href="mailto:{actors.charlie.email}"' in contacts
    assert "OFFICIAL-SENSITIVE" in page and "Printed on" in page and "by Alice Adams" in page
    assert f'href="{record}/print"' in page  # the print view, which works without a script


def test_ending_an_involvement_asks_first_and_warns_of_the_only_link(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice = signed_in(actors.alice)
    record = find_and_register(alice, child, "amelia", NURSE)
    mine = one_at(actors.school_a, child=child)
    assert f'href="/involvements/{mine.pk}/end"' in alice.get(record).content.decode()
    asked = alice.get(f"/involvements/{mine.pk}/end")
    page = asked.content.decode()
    assert asked.status_code == 200 and "Are you sure you want to end your involvement?" in page
    assert 'id="only-link"' in page and 'name="confirmed" value="yes"' in page
    assert alice.post(f"/involvements/{mine.pk}/end").status_code == 200  # asked again
    mine.refresh_from_db()
    assert mine.end_date is None
    ended = alice.post(f"/involvements/{mine.pk}/end", {"confirmed": "yes"})
    assert ended.status_code == 302
    mine.refresh_from_db()
    assert mine.end_date is not None


def test_emergency_access_prompts_999_shows_one_banner_and_a_future_end(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    alice = signed_in(actors.alice)
    search(alice, "maya", purpose="safeguarding")
    path = f"/children/{child.cpid}/emergency-access"
    assert "call 999 now" in alice.get(path).content.decode()
    explanation = "Police called about the child at the address tonight"
    opened = alice.post(path, {"reason": "immediate_risk", "explanation": explanation})
    assert opened.status_code == 302
    record = alice.get(opened["Location"]).content.decode()
    assert record.count("govuk-notification-banner__title") == 1  # one banner, not two
    assert "You are using emergency access" in record
    petra = signed_in(actors.petra)
    review = petra.get("/emergency-access").content.decode()
    assert ">Ends<" in review and ">Ended<" not in review
    assert 'id="none-reviewed"' in review


def test_a_reviewed_emergency_access_stays_in_the_history_with_its_outcome(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["maya"]
    found(Actor.of(actors.alice), child)
    emergency.open_access(
        Actor.of(actors.alice), child, "missing", "Not home tonight, police searching"
    )
    petra = signed_in(actors.petra)
    access = EmergencyAccess.objects.get(user=actors.alice)
    done = petra.post(f"/emergency-access/{access.pk}", {"outcome": "not_justified"})
    assert done.status_code == 302
    page = petra.get("/emergency-access").content.decode()
    assert "No emergency access is waiting for review" in page
    history = page[page.index('id="reviewed"') :]
    assert "Alice Adams" in history and child.cpid in history
    assert "Not justified: take it further" in history and "by Petra Price" in history
    assert "police searching" not in history  # the explanation stays with the waiting list
    # Another organisation's privacy officer sees none of it.
    other = signed_in(
        user(
            "olga@council-b.example",
            "Olga Ortiz",
            actors.council_b,
            Role.PRIVACY_OFFICER,
            actors.secrets,
        )
    )
    assert child.cpid not in other.get("/emergency-access").content.decode()


def test_the_print_view_is_marked_names_who_printed_it_and_is_audited(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, record = both_registered(child, actors)
    assert f'href="{record}/print"' in alice.get(record).content.decode()
    printed = alice.get(f"{record}/print")
    page = printed.content.decode()
    assert printed.status_code == 200
    assert page.count("OFFICIAL-SENSITIVE") >= 2  # at the top and the foot of the paper
    assert "Printed on" in page and "by Alice Adams, Parkside Primary School" in page
    assert 'href="tel:02079460202"' in page and "Charlie Clark" in page
    main = page[page.index("<main") : page.index("</main>")]
    assert "<form" not in main  # none of the record's buttons: paper takes no action
    prints = about(child.pk).filter(action="child:record:print")
    assert (
        prints.count() == 1
        and prints.get().principal == actors.alice.principal(second_factor=True).key
    )


def test_the_print_view_of_a_record_seen_without_contacts_goes_back_to_the_record(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    bob = signed_in(actors.bob)
    search(bob, "amelia")
    Involvement.objects.filter(child=child).delete()
    record = f"/children/{child.cpid}"
    answer = bob.get(f"{record}/print")
    assert answer.status_code == 302 and answer["Location"] == record
    assert not Event.objects.filter(action="child:record:print").exists()
    assert signed_in(actors.charlie).get(f"{record}/print").status_code == 404  # not found
