"""The practitioner journey in Chromium, end to end, as the issue tells it.

Practitioner A (alice, school A) signs in, searches with a typo, opens the record and
registers an involvement; practitioner B (charlie, council B), already involved, sees the
alert naming who joined and how to reach them; a third user (dana, Camden's council team,
not involved) is refused the contacts, uses emergency access with her second factor
again, and her organisation's privacy officer (priya) has the alert and reviews it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from contactpoint.access.permissions import Role
from contactpoint.access.users import Actor
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details
from contactpoint.practice.models import EmergencyAccess
from tests.support.actors import make_actors, user
from tests.support.alerts import of_kind
from tests.support.browser import axe_violations, search, signed_in_page
from tests.support.children import found, load_children
from tests.support.cli import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CHARLIE_PHONE = "020 7946 0555"
ALICE_PHONE = "020 7946 0101"


def test_find_register_alert_and_emergency_access(browser: Any, feeds: Path) -> None:
    actors = make_actors()
    dana = user(
        "dana@camden.example", "Dana Doe", actors.council_a, Role.PRACTITIONER, actors.secrets
    )
    priya = user(
        "priya@camden.example",
        "Priya Patel",
        actors.council_a,
        Role.PRIVACY_OFFICER,
        actors.secrets,
    )
    amelia = load_children(feeds)["amelia"]
    charlie = Actor.of(actors.charlie)
    found(charlie, amelia)
    involvements.register(charlie, amelia, Details("social_worker", "Social worker", CHARLIE_PHONE))

    # A short step-up window, so emergency access asks for the second factor again.
    with serving({"CONTACTPOINT_STEP_UP_SECONDS": "2"}) as server:
        # Practitioner A: a typo in the given name and the day and month swapped.
        alice = signed_in_page(browser, server, actors, actors.alice)
        search(alice, "Hartley", "Amelai", "3", "4", "2015")
        results = alice.locator("#results")
        assert results.inner_text().count("Hartley") == 1
        assert "Born in 2015, postcode area NW1" in results.inner_text()
        assert "3 Elm" not in results.inner_text() and "NW1 3AB" not in results.inner_text()
        alice.click("#results a:has-text('Amelia Hartley')")
        alice.wait_for_load_state()
        main = alice.locator("main").inner_text()
        assert "services are involved" in main
        assert CHARLIE_PHONE not in main and actors.charlie.name not in main
        alice.select_option("#role", "school_nurse")
        alice.fill("#job_title", "School nurse")
        alice.fill("#phone", ALICE_PHONE)
        alice.click("button:has-text('Register your involvement')")
        alice.wait_for_load_state()
        involved = alice.locator("#involvements").inner_text()
        assert actors.charlie.name in involved and CHARLIE_PHONE in involved
        assert axe_violations(alice) == []
        alice.context.close()

        # Practitioner B, already involved, is told who joined and how to reach them.
        bee = signed_in_page(browser, server, actors, actors.charlie)
        assert "1 new" in bee.locator("header").inner_text()
        bee.click("header a:has-text('Alerts')")
        bee.wait_for_url("**/alerts")
        alert = bee.locator(".govuk-summary-card").first.inner_text()
        assert actors.school_a.name in alert and actors.alice.name in alert
        assert ALICE_PHONE in alert and "School nurse" in alert
        assert axe_violations(bee) == []
        bee.context.close()

        # A third user, not involved: no contacts, then emergency access.
        third = signed_in_page(browser, server, actors, dana)
        search(third, "Hartley", "Amelia", "4", "3", "2015")
        third.click("#results a:has-text('Amelia Hartley')")
        third.wait_for_load_state()
        record = third.url
        assert CHARLIE_PHONE not in third.locator("main").inner_text()
        time.sleep(3)  # the step-up window passes
        third.click("#emergency-link")
        third.wait_for_url("**/sign-in/confirm**")
        third.fill("#code", actors.code(dana, at=time.time() + 30))  # the next code
        third.click("button:has-text('Continue')")
        third.wait_for_url("**/emergency-access")
        third.check("input[name=reason][value=immediate_risk]")
        third.fill("#explanation", "The child told a teacher she is afraid to go home tonight")
        third.click("button:has-text('Open the contacts')")
        third.wait_for_url(record)
        main = third.locator("main").inner_text()
        assert "You are using emergency access" in main
        assert CHARLIE_PHONE in main and ALICE_PHONE in main
        assert axe_violations(third) == []
        third.context.close()

        # Her organisation's privacy officer has the alert, and reviews it.
        officer = signed_in_page(browser, server, actors, priya)
        officer.click("header a:has-text('Alerts')")
        officer.wait_for_url("**/alerts")
        assert "Dana Doe" in officer.locator("main").inner_text()
        officer.goto(server + "/emergency-access")
        officer.wait_for_load_state()
        if "/sign-in/confirm" in officer.url:  # reviewing is a sensitive action too
            officer.fill("#code", actors.code(priya, at=time.time() + 30))
            officer.click("button:has-text('Continue')")
            officer.wait_for_load_state()
        assert "afraid to go home" in officer.locator("main").inner_text()
        officer.check("input[name=outcome][value=justified]")
        officer.click("button:has-text('Record the review')")
        officer.wait_for_load_state()
        officer.context.close()

    assert len(of_kind("joined", recipient=actors.charlie)) == 1
    assert len(of_kind("emergency_access", recipient=priya)) == 1
    access = EmergencyAccess.objects.get(user=dana)
    assert access.outcome == "justified" and access.reviewed_by == priya
