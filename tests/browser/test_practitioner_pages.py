"""A practitioner's day in Chromium, from the start page: home, Find a child, results,
the record, Back to the results (no resubmission, no second search), and a second-factor
check that comes due in the middle of the emergency access form (what was typed is kept).
Axe on every page visited."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from django.contrib.sessions.backends.db import SessionStore

from contactpoint.access.middleware import FACTOR_AT
from contactpoint.audit.models import Event
from contactpoint.practice.models import EmergencyAccess
from tests.actors import PASSWORD, make_actors
from tests.browser.conftest import axe_violations
from tests.children import load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def clean(page: Any, visited: list[str]) -> None:
    assert axe_violations(page) == [], page.url
    visited.append(page.url)


def test_back_to_results_and_a_step_up_mid_form(browser: Any, server: str, feeds: Path) -> None:
    actors = make_actors()
    amelia = load_children(feeds)["amelia"]
    visited: list[str] = []
    page = browser.new_context().new_page()
    page.goto(server + "/")
    clean(page, visited)
    page.click("#sign-in")
    page.fill("#email", actors.alice.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/second-factor**")
    page.fill("#code", actors.code(actors.alice))
    page.click("button:has-text('Continue')")
    page.wait_for_url(server + "/")
    assert page.locator("h1").inner_text() == "Home"
    clean(page, visited)

    page.click("#find-a-child")
    page.wait_for_url("**/search")
    page.check("input[name=purpose][value=safeguarding]")
    page.fill("#family_name", "Hartley")
    page.fill("#given_name", "Amelia")
    page.fill("#dob-day", "4")
    page.fill("#dob-month", "3")
    page.fill("#dob-year", "2015")
    page.click("button:has-text('Search')")
    page.wait_for_url("**/search/results/**")
    results = page.url
    assert "Hartley" not in results
    clean(page, visited)
    page.click("#results a:has-text('Amelia Hartley')")
    page.wait_for_selector("#child-name")  # the record (its ID may end in "=": no URL glob)
    clean(page, visited)
    page.go_back()  # a GET: no "Confirm Form Resubmission", no second search
    page.wait_for_url(results)
    assert "Amelia Hartley" in page.locator("#results").inner_text()
    page.go_forward()
    page.wait_for_selector("#child-name")
    page.click("#back-to-results")
    page.wait_for_url(results)
    assert Event.objects.filter(action="child:records:search").count() == 1

    page.goto(f"{server}/children/{amelia.cpid_id}/emergency-access")
    assert "call 999 now" in page.locator("main").inner_text()
    clean(page, visited)
    page.check("input[name=reason][value=immediate_risk]")
    page.fill("#explanation", "The child told a teacher she is afraid to go home tonight")
    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-session")
    session = SessionStore(session_key=cookie["value"])
    session[FACTOR_AT] = time.time() - 3600  # the step-up window ends while she types
    session.save()
    page.click("button:has-text('Open the contacts')")
    page.wait_for_url("**/sign-in/confirm**")
    page.fill("#code", actors.code(actors.alice, at=time.time() + 30))  # the next code
    page.click("button:has-text('Continue')")
    page.wait_for_selector("#emergency")
    assert "You are using emergency access" in page.locator("main").inner_text()
    assert EmergencyAccess.objects.filter(user=actors.alice).count() == 1
    clean(page, visited)
    assert len(visited) == 6
    page.context.close()
