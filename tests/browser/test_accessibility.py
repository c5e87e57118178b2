"""axe-core finds no WCAG 2.2 A/AA violation on any page of the web application."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import pyotp
import pytest
from django.utils import timezone

from contactpoint.access import activation
from contactpoint.access.models import Activation, TotpDevice, User
from contactpoint.access.users import Actor
from contactpoint.practice.involvements import emergency
from tests.support.actors import PASSWORD, make_actors
from tests.support.browser import (
    axe_violations,
    fill_search,
    sign_in,
    signed_in_page,
    yesterdays_alert,
)
from tests.support.children import found, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def check(page: Any, url: str, checked: list[str]) -> None:
    page.goto(url)
    violations = axe_violations(page)
    assert [(url, v["id"], v["help"]) for v in violations] == []
    checked.append(url)


def test_every_page_has_no_accessibility_violations(browser: Any, server: str) -> None:
    actors = make_actors()
    checked: list[str] = []
    anonymous = browser.new_context().new_page()
    # A one-time link to set a password (as e-mailed), and one that does not work.
    Activation.objects.create(
        user=actors.bob,
        digest=activation.digest("a-link-as-emailed"),
        purpose=Activation.Purpose.ACTIVATE,
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    for path in (
        "/",
        "/sign-in",
        "/sign-in/forgotten-password",
        "/no-such-page",
        "/activate/a-link-as-emailed",
        "/activate/no-such-link",
    ):
        check(anonymous, server + path, checked)
    anonymous.goto(server + "/sign-in/forgotten-password")
    anonymous.fill("#email", "someone@example.org")
    anonymous.click("button:has-text('Ask for a reset')")
    anonymous.locator("h1:has-text('passed on')").wait_for()  # the answer, not the form
    assert axe_violations(anonymous) == []
    anonymous.goto(server + "/sign-in")
    anonymous.click("button:has-text('Continue')")  # empty: the error summary
    anonymous.locator(".govuk-error-summary").wait_for()
    assert axe_violations(anonymous) == []

    page = browser.new_context().new_page()
    sign_in(page, server, actors, actors.ian, checked)  # to the index team's home
    for path in (
        "/",
        "/account",
        "/account/password",
        "/account/authenticator",
        "/account/security-key",
        "/users",
        "/users/new",
        f"/users/{actors.bob.id}",
        "/organisations",
        f"/organisations/{actors.school_a.code}/accreditation",
        f"/users/{actors.charlie.id}",  # another area: not found
    ):
        check(page, server + path, checked)
    # The pages that follow an action: a new user's first password, a reset password.
    page.goto(server + "/users/new")
    page.fill("#name", "Dana Doe")
    page.fill("#email", "dana@school-a.example")
    page.select_option("#organisation", label=actors.school_a.name)
    page.check("input[name=role][value=practitioner]")
    page.click("button:has-text('Add user')")
    page.wait_for_load_state()
    assert "Dana Doe" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.goto(f"{server}/users/{actors.bob.id}")
    page.click("button:has-text('Reset password')")
    page.wait_for_load_state()
    assert axe_violations(page) == []
    check(page, server + "/sign-in/confirm", checked)
    page.click("button:has-text('Sign out')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You have signed out"
    assert axe_violations(page) == []
    assert len(checked) == 22


def test_the_first_sign_in_and_refusal_pages_have_no_violations(browser: Any, server: str) -> None:
    actors = make_actors()
    TotpDevice.objects.filter(user=actors.bob).delete()
    page = browser.new_context().new_page()
    page.goto(server + "/sign-in")
    page.fill("#email", actors.bob.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/set-up**")
    assert page.locator("img.cp-qr").is_visible()
    assert axe_violations(page) == []
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    page.fill("#code", pyotp.TOTP(secret).now())
    page.click("button:has-text('Finish setting up')")
    page.wait_for_url(server + "/")
    page.goto(server + "/users")  # a practitioner: refused
    assert page.locator("h1").inner_text() == "You cannot do this"
    assert axe_violations(page) == []
    page.context.close()

    User.objects.filter(pk=actors.alice.pk).update(vetting_checked_on=dt.date(2020, 1, 1))
    page = browser.new_context().new_page()
    page.goto(server + "/sign-in")
    page.fill("#email", actors.alice.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/second-factor**")
    page.fill("#code", actors.code(actors.alice))
    page.click("button:has-text('Continue')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "Your access is suspended"
    assert "vetting check over 3 years old" in page.locator("main").inner_text()
    assert axe_violations(page) == []
    page.context.close()


def test_the_practitioner_pages_have_no_violations(browser: Any, server: str, feeds: Path) -> None:
    actors = make_actors()
    children = load_children(feeds)
    found(Actor.of(actors.alice), children["oliver"])
    emergency.open_access(
        Actor.of(actors.alice), children["oliver"], "missing", "Not home tonight, police searching"
    )
    page = signed_in_page(browser, server, actors, actors.alice)
    checked: list[str] = []
    check(page, server + "/search", checked)
    page.click("button:has-text('Search')")  # nothing entered: every field's error
    page.locator(".govuk-error-summary").wait_for()  # waits until visible, or times out
    assert axe_violations(page) == []
    fill_search(page, "amelia")
    page.wait_for_load_state()
    assert page.locator("#results").is_visible()
    assert axe_violations(page) == []
    page.click("#results a")
    page.wait_for_load_state()
    assert "services are involved" in page.locator("main").inner_text()
    assert axe_violations(page) == []  # the identity view and the register form
    record = page.url
    check(page, record + "/emergency-access", checked)
    page.goto(record)
    page.select_option("#role", "school_nurse")
    page.click("button:has-text('Register your involvement')")  # no phone: errors at fields
    page.wait_for_load_state()
    assert page.locator(".govuk-error-summary").is_visible()
    assert axe_violations(page) == []
    page.fill("#job_title", "School nurse")
    page.fill("#phone", "020 7946 0101")
    page.click("button:has-text('Register your involvement')")
    page.wait_for_load_state()
    assert "Services involved" in page.locator("main").inner_text()
    assert axe_violations(page) == []  # the full view, with the user's own buttons
    check(page, server + f"/children/{children['oliver'].cpid}", checked)  # emergency
    check(page, server + f"/children/{children['maya'].cpid}", checked)  # not found
    check(page, server + "/alerts", checked)
    page.context.close()

    petra = signed_in_page(browser, server, actors, actors.petra)
    check(petra, server + "/alerts", checked)
    check(petra, server + "/emergency-access", checked)
    petra.click("button:has-text('Record the review')")  # no outcome: the error
    petra.wait_for_load_state()
    assert petra.locator(".govuk-error-summary").is_visible()
    assert axe_violations(petra) == []
    assert len(checked) == 7


def test_the_privacy_officers_workspace_has_no_violations(browser: Any, server: str) -> None:
    from contactpoint.audit import log as audit_log
    from contactpoint.registry.children import create_children

    actors = make_actors()
    child = create_children([uuid.uuid4()])[0][0]
    alice = actors.alice.principal(second_factor=True)
    viewed = audit_log.entry(alice, "child:record:view", child_id=child.pk, signals="involved")
    audit_log.append(viewed)
    alert = yesterdays_alert(
        actors, alice.key, child.pk, "same_surname_or_address", "1 child with the user's surname"
    )
    petra = signed_in_page(browser, server, actors, actors.petra)
    checked: list[str] = []
    for path in (
        "/oversight",
        f"/oversight/alerts/{alert.pk}",
        f"/oversight/users/{actors.alice.pk}",
        "/oversight/children",
        f"/oversight/children?cpid={child.cpid}",
        "/oversight/children?cpid=CP-NOT-AN-ID",  # the one not-found answer
        "/account/home-postcode",
    ):
        check(petra, server + path, checked)
    petra.goto(f"{server}/oversight/alerts/{alert.pk}")
    petra.click("button:has-text('Record the review')")  # nothing given: the errors
    petra.wait_for_load_state()
    assert petra.locator(".govuk-error-summary").is_visible()
    assert axe_violations(petra) == []
    petra.check("input[name=outcome][value=advice]")
    petra.fill("#note", "Spoke to the user: advice given")
    petra.click("button:has-text('Record the review')")
    petra.wait_for_url("**/oversight")
    assert "Your review is recorded" in petra.locator("main").inner_text()
    assert axe_violations(petra) == []  # the notice and the reviewed table
    check(petra, f"{server}/oversight/alerts/{alert.pk}", checked)  # the review shown
    petra.goto(f"{server}/oversight/users/{actors.alice.pk}")
    petra.click("button:has-text('Suspend this user')")  # no reason: the error
    petra.wait_for_load_state()
    assert petra.locator(".govuk-error-summary").is_visible()
    assert axe_violations(petra) == []
    petra.fill("#reason", "While the alert about her is looked into")
    petra.click("button:has-text('Suspend this user')")
    petra.wait_for_load_state()
    assert "Alice Adams is suspended" in petra.locator("main").inner_text()
    assert axe_violations(petra) == []
    petra.goto(f"{server}/account/home-postcode")
    petra.fill("#postcode", "NW1 4N")
    petra.click("button:has-text('Save your home postcode')")
    petra.wait_for_load_state()
    assert petra.locator(".govuk-error-summary").is_visible()
    assert axe_violations(petra) == []
    petra.fill("#postcode", "NW1 4NP")
    petra.click("button:has-text('Save your home postcode')")
    petra.wait_for_url("**/account?done=postcode")
    assert axe_violations(petra) == []  # the account page with the postcode
    assert len(checked) == 8
