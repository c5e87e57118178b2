"""The record as a practitioner reads it: who to contact at the top, with links to call and
write; a protective marking for paper; ending an involvement asks first."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from contactpoint.registry.models import Child
from tests.actors import Actors, signed_in
from tests.children import PEOPLE, load_children, one_at

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

NURSE = {"role": "school_nurse", "job_title": "School nurse", "phone": "020 7946 0101"}
SOCIAL_WORKER = {"role": "social_worker", "job_title": "Social worker", "phone": "020 7946 0202"}


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def find_and_register(client: Client, child: Child, key: str, details: dict[str, str]) -> str:
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    form = {"purpose": "starting_work", "family_name": family, "given_name": given}
    dob = {"dob-day": day, "dob-month": month, "dob-year": year}
    assert client.post("/search", {**form, **dob}).status_code == 303
    record = f"/children/{child.cpid_id}"
    assert client.post(f"{record}/involvements", details).status_code == 302
    return record


def test_who_to_contact_comes_first_with_links_to_call_and_write(
    children: dict[str, Child], actors: Actors
) -> None:
    child = children["amelia"]
    alice, charlie = signed_in(actors.alice), signed_in(actors.charlie)
    find_and_register(charlie, child, "amelia", SOCIAL_WORKER)
    record = find_and_register(alice, child, "amelia", NURSE)
    page = alice.get(record).content.decode()
    top = page.index('id="who-to-contact"')
    assert top < page.index(">Identity<") and top < page.index(">Parents and carers<")
    contacts = page[top : page.index(">Identity<")]
    assert 'href="tel:02079460202"' in contacts and "Charlie Clark" in contacts
    assert f'href="mailto:{actors.charlie.email}"' in contacts
    assert "OFFICIAL-SENSITIVE" in page and "Printed on" in page and "by Alice Adams" in page
    assert "data-cp-print" in page


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
    given, family, born, _sex, _postcode = PEOPLE["maya"]
    year, month, day = born.split("-")
    form = {"purpose": "safeguarding", "family_name": family, "given_name": given}
    dob = {"dob-day": day, "dob-month": month, "dob-year": year}
    assert alice.post("/search", {**form, **dob}).status_code == 303
    path = f"/children/{child.cpid_id}/emergency-access"
    assert "call 999 now" in alice.get(path).content.decode()
    explanation = "Police called about the child at the address tonight"
    opened = alice.post(path, {"reason": "immediate_risk", "explanation": explanation})
    assert opened.status_code == 302
    record = alice.get(opened["Location"]).content.decode()
    assert record.count("govuk-notification-banner__title") == 1  # one banner, not two
    assert "You are using emergency access" in record
    review = signed_in(actors.petra).get("/emergency-access").content.decode()
    assert ">Ends<" in review and ">Ended<" not in review
