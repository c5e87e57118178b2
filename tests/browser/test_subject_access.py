"""A family's subject-access report in Chromium, as the local index team makes it.

Alice (school A) has looked at Amelia's record; Charlie (council B) is involved and looked
as part of a child protection enquiry. Ian, Camden's local index team, signs in, finds
Amelia, records a parent's request and opens the report: the fields with their sources,
Alice's look by organisation and role, no one's name, and Charlie's enquiry withheld.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from contactpoint.access.users import Actor
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from tests.support.actors import make_actors, signed_in
from tests.support.browser import axe_violations, search, signed_in_page
from tests.support.children import found, load_children
from tests.support.cli import serving
from tests.support.pages import search as search_as

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CHARLIE_PHONE = "020 7946 0555"


def test_the_index_team_records_a_request_and_reads_a_report_that_leaks_nothing(
    browser: Any, feeds: Path
) -> None:
    actors = make_actors()
    amelia = load_children(feeds)["amelia"]
    charlie = Actor.of(actors.charlie)
    found(charlie, amelia)
    involvements.register(charlie, amelia, Details("social_worker", "Social worker", CHARLIE_PHONE))
    for who, purpose in ((actors.charlie, "child_protection_enquiry"), (actors.alice, "")):
        client = signed_in(who)
        search_as(client, "amelia", purpose or "starting_work")
        assert client.get(f"/children/{amelia.cpid}").status_code == 200

    with serving() as server:
        ian = signed_in_page(browser, server, actors, actors.ian)
        search(ian, "Hartley", "Amelia", "4", "3", "2015")
        ian.click("#results a:has-text('Amelia Hartley')")
        ian.wait_for_load_state()
        ian.goto(ian.url + "/subject-access")
        ian.wait_for_load_state()
        ian.check("input[name=relationship][value=parent]")
        ian.check("input[name=identity_check][value=photo_id]")
        ian.fill("#note", "Mother came in with her passport")
        ian.click("button:has-text('Record the request')")
        ian.wait_for_url("**/subject-access/*")
        report = ian.locator("#report").inner_text()
        assert "Hartley" in report and "4 March 2015" in report
        assert "From NHS demographics, as at 1 October 2026" in report
        assert "Elm Tree Surgery" in report
        assert "Parkside Primary School, Practitioner" in report
        assert "Why: I have started working with this child" in report
        assert "Some accesses are withheld for now." in report
        assert "Part of a child protection enquiry" not in report
        assert CHARLIE_PHONE not in report and "passport" not in report
        main = ian.locator("main").inner_text()
        for someone in actors.all():
            assert someone.name not in main and someone.email not in main
            assert str(someone.pk) not in main
        assert axe_violations(ian) == []
        ian.context.close()
