"""Each role's main journey in Chromium, from the start page, with axe on every page it
visits (0 violations): the practitioner (Back to results, the print view, a step-up that
ends in the middle of the emergency access form), the social worker (registering, then who
to contact), the local index team (every page of its team's work), the privacy officer
(a step-up that ends in the middle of a review, the history, misuse alerts) and the
national administrator. One served app for the module.

With CONTACTPOINT_SCREENSHOTS=1 the walks also take docs/images' pictures (synthetic
children only)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from contactpoint.access.users import Actor
from contactpoint.audit import log as audit_log
from contactpoint.audit.models import Event
from contactpoint.practice import involvements
from contactpoint.practice.involvements import Details, emergency
from contactpoint.practice.models import EmergencyAccess
from tests.support.actors import Actors, make_actors
from tests.support.browser import (
    assert_accessible,
    end_step_up,
    fill_search,
    shoot,
    sign_in,
    yesterdays_alert,
)
from tests.support.children import PEOPLE, found, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

CHARLIE_PHONE = "020 7946 0555"


def find(page: Any, checked: list[str], key: str, purpose: str = "safeguarding") -> str:
    """Find a child from the menu, the search page and its results checked; the results'
    address."""
    page.click("nav a:has-text('Find a child')")
    page.wait_for_url("**/search")
    assert_accessible(page, checked)
    fill_search(page, key, purpose)
    page.wait_for_url("**/search/results/**")
    assert PEOPLE[key][1] not in page.url  # criteria never in an address
    assert_accessible(page, checked)
    return str(page.url)


def open_child(page: Any, checked: list[str] | None, name: str = "Amelia Hartley") -> None:
    page.click(f"#results a:has-text('{name}')")
    page.wait_for_selector("#child-name")  # the record (its ID may end in "=": no URL glob)
    if checked is not None:
        assert_accessible(page, checked)


def confirm_code(page: Any, actors: Actors, who: Any, checked: list[str]) -> None:
    """The second factor asked again: the page checked, then the next code."""
    page.wait_for_url("**/sign-in/confirm**")
    assert_accessible(page, checked)
    page.fill("#code", actors.code(who, at=time.time() + 30))  # the next code
    page.click("button:has-text('Continue')")


def test_the_practitioner_finds_goes_back_prints_and_keeps_a_form_through_a_step_up(
    browser: Any, served: str, feeds: Path
) -> None:
    actors = make_actors()
    children = load_children(feeds)
    charlie = Actor.of(actors.charlie)
    found(charlie, children["amelia"])
    involvements.register(
        charlie, children["amelia"], Details("social_worker", "Social worker", CHARLIE_PHONE)
    )
    checked: list[str] = []
    page = browser.new_context().new_page()
    sign_in(page, served, actors, actors.alice, checked)
    assert page.locator("h1").inner_text() == "Home"
    assert "Your team's work" not in page.locator("nav").inner_text()

    results = find(page, checked, "amelia")
    open_child(page, checked)
    page.go_back()  # a GET: no "Confirm Form Resubmission", no second search
    page.wait_for_url(results)
    assert "Amelia Hartley" in page.locator("#results").inner_text()
    page.go_forward()
    page.wait_for_selector("#child-name")
    page.click("#back-to-results")
    page.wait_for_url(results)
    assert Event.objects.filter(action="child:records:search").count() == 1

    # Registering opens the contacts; the print view is marked and audited.
    open_child(page, checked)
    page.select_option("#role", "school_nurse")
    page.fill("#job_title", "School nurse")
    page.fill("#phone", "020 7946 0101")
    page.click("button:has-text('Register your involvement')")
    page.wait_for_selector("#who-to-contact")
    assert CHARLIE_PHONE in page.locator("#contacts").inner_text()
    assert_accessible(page, checked)
    page.click("#print-link")
    page.wait_for_url("**/print")
    assert page.locator("#marking").inner_text() == "OFFICIAL-SENSITIVE"
    assert "by Alice Adams, Parkside Primary School" in page.locator("#printed").inner_text()
    assert_accessible(page, checked)
    assert Event.objects.filter(action="child:record:print").count() == 1

    # The step-up window ends while she fills in emergency access: what she typed is kept.
    page.goto(f"{served}/search")
    fill_search(page, "maya", "safeguarding")
    page.wait_for_url("**/search/results/**")
    open_child(page, None, "Maya Okafor")
    page.click("#emergency-link")
    page.wait_for_url("**/emergency-access")
    assert "call 999 now" in page.locator("main").inner_text()
    assert_accessible(page, checked)
    page.check("input[name=reason][value=immediate_risk]")
    page.fill("#explanation", "The child told a teacher she is afraid to go home tonight")
    end_step_up(page)
    page.click("button:has-text('Open the contacts')")
    confirm_code(page, actors, actors.alice, checked)
    page.wait_for_selector("#emergency")
    assert page.locator(".govuk-notification-banner").count() == 1  # one banner
    assert EmergencyAccess.objects.filter(user=actors.alice).count() == 1
    assert_accessible(page, checked)
    check_small_screens(browser, served, actors, f"/children/{children['amelia'].cpid}")
    page.context.close()
    assert len(checked) == 13


def check_small_screens(browser: Any, served: str, actors: Actors, record: str) -> None:
    """At 320 pixels the menu folds under "Menu" and nothing scrolls sideways (home, the
    record with its contacts, the print view); without a script every link of the menu
    shows and the print view opens. (Other users than the walk's: a code is used once;
    both are of services involved with the child.)"""
    small = browser.new_context(viewport={"width": 320, "height": 640})
    page = small.new_page()
    sign_in(page, served, actors, actors.bob)
    menu = page.locator("nav button:has-text('Menu')")
    assert menu.is_visible() and not page.locator("#navigation").is_visible()
    menu.click()
    assert page.locator("#navigation a:has-text('Find a child')").is_visible()
    checked: list[str] = []
    for address in (None, served + record, served + record + "/print"):
        if address:
            page.goto(address)
        assert page.evaluate("document.documentElement.scrollWidth") <= 320, page.url
        assert_accessible(page, checked)
    small.close()
    plain = browser.new_context(java_script_enabled=False)
    page = plain.new_page()
    sign_in(page, served, actors, actors.charlie)
    assert page.locator("#navigation a:has-text('Your account')").is_visible()
    page.goto(served + record)
    page.click("#print-link")
    page.wait_for_url("**/print")
    assert "Use your browser's print command" in page.locator("main").inner_text()
    plain.close()


def test_the_social_worker_registers_and_sees_who_to_contact(
    browser: Any, served: str, feeds: Path
) -> None:
    actors = make_actors()
    load_children(feeds)
    checked: list[str] = []
    page = browser.new_context().new_page()
    sign_in(page, served, actors, actors.charlie, checked)
    find(page, checked, "amelia", purpose="starting_work")
    open_child(page, checked)
    assert "services are involved" in page.locator("main").inner_text()
    page.select_option("#role", "social_worker")
    page.fill("#job_title", "Social worker")
    page.fill("#phone", CHARLIE_PHONE)
    page.click("button:has-text('Register your involvement')")
    page.wait_for_selector("#who-to-contact")
    assert "Your involvement is registered" in page.locator("main").inner_text()
    assert_accessible(page, checked)
    shoot(page, "record")
    page.click("#print-link")
    page.wait_for_url("**/print")
    assert_accessible(page, checked)
    shoot(page, "print", paper=True)
    page.click("#back-to-record")
    page.wait_for_selector("#child-name")
    page.click("a:has-text('End your involvement')")
    page.wait_for_url("**/end")
    assert "Are you sure" in page.locator("h1").inner_text()
    assert_accessible(page, checked)
    page.click("nav a:has-text('Alerts')")
    page.wait_for_url("**/alerts")
    assert_accessible(page, checked)
    page.context.close()
    assert len(checked) == 11


def test_the_index_team_reaches_every_page_of_its_work_from_home(
    browser: Any, served: str, feeds: Path
) -> None:
    actors = make_actors()
    amelia = load_children(feeds)["amelia"]  # pupils of a Camden school: Ian's area
    alice = Actor.of(actors.alice)
    found(alice, amelia)  # her registration makes a family notice due for Camden
    involvements.register(alice, amelia, Details("school_nurse", "School nurse", "020 7946 0101"))
    checked: list[str] = []
    page = browser.new_context().new_page()
    sign_in(page, served, actors, actors.ian, checked)
    shoot(page, "home")
    page.click('nav a:has-text("Your team\'s work")')
    page.locator("#queues a").first.wait_for()
    hrefs = page.locator("#queues a").evaluate_all("links => links.map(a => a.pathname)")
    assert hrefs == [
        "/shielding",
        "/linkage/review",
        "/rectification",
        "/family-notices",
        "/users",
        "/organisations",
    ]
    for href in hrefs:
        page.goto(served + "/")
        page.click(f"#queues a[href='{href}']")
        page.wait_for_url(f"**{href}")
        assert_accessible(page, checked)
    page.click('nav a:has-text("Your team\'s work")')
    page.click("#queues a[href='/users']")
    page.click(f"a[href='/users/{actors.bob.id}']")
    page.wait_for_url(f"**/users/{actors.bob.id}")
    assert_accessible(page, checked)
    page.goto(served + "/family-notices")
    page.click("#notices a:has-text('Open the letter')")
    page.wait_for_url("**/family-notices/**")
    assert_accessible(page, checked)

    # A child of the area: the record and each of the local index team's pages for it.
    find(page, checked, "amelia", purpose="starting_work")
    open_child(page, checked)
    record = page.url
    team = page.locator("main a[href*='/children/']").evaluate_all(
        "links => links.map(a => a.pathname).filter(p => !p.endsWith('/print'))"
    )
    assert len(team) >= 3, team  # subject access, rectification, keeping it to 25, ...
    for href in team:
        page.goto(record)
        page.click(f"main a[href='{href}']")
        page.wait_for_url(f"**{href}")
        assert_accessible(page, checked)
    page.context.close()
    assert len(checked) == 15 + len(team)


def test_the_privacy_officer_reviews_through_a_step_up_and_keeps_a_history(
    browser: Any, served: str, feeds: Path
) -> None:
    actors = make_actors()
    maya = load_children(feeds)["maya"]
    alice = Actor.of(actors.alice)
    found(alice, maya)
    emergency.open_access(alice, maya, "missing", "Not home tonight, police searching")
    viewed = audit_log.entry(alice.principal, "child:record:view", child_id=maya.pk)
    audit_log.append(viewed)
    yesterdays_alert(
        actors, alice.principal.key, maya.pk, "out_of_hours", "looked at 3 children late"
    )
    checked: list[str] = []
    page = browser.new_context().new_page()
    sign_in(page, served, actors, actors.petra, checked)
    page.click("#queues a[href='/emergency-access']")
    page.wait_for_url("**/emergency-access")
    assert "Ends" in page.locator("main").inner_text()
    assert_accessible(page, checked)
    page.check("input[name=outcome][value=justified]")
    end_step_up(page)  # the window ends while she decides
    page.click("button:has-text('Record the review')")
    confirm_code(page, actors, actors.petra, checked)
    page.wait_for_url("**/emergency-access")
    assert "Your review is recorded" in page.locator("main").inner_text()
    assert "Justified" in page.locator("#reviewed").inner_text()
    assert_accessible(page, checked)
    assert EmergencyAccess.objects.get().outcome == "justified"

    page.goto(served + "/")
    page.click("#queues a[href='/oversight']")
    page.wait_for_url("**/oversight")
    assert "Alice Adams" in page.locator("main").inner_text()
    assert_accessible(page, checked)
    page.click("main a[href^='/oversight/alerts/']")
    page.wait_for_url("**/oversight/alerts/**")
    assert_accessible(page, checked)
    page.goto(f"{served}/oversight/users/{actors.alice.pk}")
    assert_accessible(page, checked)
    page.context.close()
    assert len(checked) == 10


def test_the_national_administrator_sees_the_counts_users_and_organisations(
    browser: Any, served: str
) -> None:
    actors = make_actors()
    checked: list[str] = []
    page = browser.new_context().new_page()
    sign_in(page, served, actors, actors.nadia, checked)
    assert "Children in the index" in page.locator("#counts").inner_text()
    for href in ("/users", "/organisations"):
        page.goto(served + "/")
        page.click(f"#queues a[href='{href}']")
        page.wait_for_url(f"**{href}")
        assert_accessible(page, checked)
    page.click("nav a:has-text('Your account')")
    page.wait_for_url("**/account")
    assert_accessible(page, checked)
    page.context.close()
    assert len(checked) == 7
