"""Signing in, as a person does it in Chromium: password, authenticator code, and the ends
of a session (idle, disabled by an administrator)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.support.actors import make_actors
from tests.support.browser import axe_violations, enter_credentials
from tests.support.cli import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_a_practitioner_signs_in_with_password_and_authenticator_code(
    browser: Any, server: str
) -> None:
    actors = make_actors()
    page = browser.new_page()
    enter_credentials(page, server, actors, actors.alice)
    page.wait_for_url(server + "/")  # the practitioner's home
    assert page.locator("h1").inner_text() == "Home"
    assert "Practitioner, Parkside Primary School" in page.locator("main").inner_text()
    # The sign-out form sits inside the banner's text (a <form> inside a <p> would not).
    assert page.locator(".govuk-phase-banner__text button:has-text('Sign out')").count() == 1
    assert axe_violations(page) == []
    cookies = {c["name"]: c for c in page.context.cookies()}
    session = cookies["__Host-session"]
    assert session["secure"] and session["httpOnly"] and session["sameSite"] == "Strict"
    page.close()


def test_a_wrong_code_is_refused(browser: Any, server: str) -> None:
    actors = make_actors()
    page = browser.new_page()
    enter_credentials(page, server, actors, actors.bob, code="000000")
    # The refusal answers at the same address, so wait for its page rather than the URL: the
    # title read while the form is still posting is empty.
    summary = page.locator(".govuk-error-summary")
    summary.wait_for()
    assert "second-factor" in page.url
    assert page.title().startswith("Error: ")
    assert "Enter the 6-digit code" in summary.inner_text()
    assert axe_violations(page) == []
    page.goto(server + "/account")
    assert "/sign-in" in page.url  # still not signed in
    page.close()


def test_an_idle_session_times_out(browser: Any) -> None:
    actors = make_actors()
    with serving({"CONTACTPOINT_SESSION_IDLE_SECONDS": "3"}) as server:
        page = browser.new_page()
        enter_credentials(page, server, actors, actors.charlie)
        page.wait_for_url(server + "/")
        time.sleep(4)
        page.goto(server + "/account")
        assert "/sign-in" in page.url
        assert page.locator("h1").inner_text() == "Sign in to contactpoint"
        page.close()


def test_a_user_disabled_by_the_index_team_is_thrown_out(browser: Any, server: str) -> None:
    actors = make_actors()
    alice = browser.new_context().new_page()
    enter_credentials(alice, server, actors, actors.alice)
    alice.wait_for_url(server + "/")
    ian = browser.new_context().new_page()
    enter_credentials(ian, server, actors, actors.ian)
    ian.wait_for_url(server + "/")
    ian.goto(f"{server}/users/{actors.alice.id}")
    ian.click("button:has-text('Disable user')")
    ian.wait_for_load_state()
    assert "disabled" in ian.locator("main").inner_text().lower()
    alice.goto(server + "/account")
    assert "/sign-in" in alice.url
    assert alice.locator("h1").inner_text() == "Sign in to contactpoint"
    alice.context.close()
    ian.context.close()


def test_signing_in_works_without_javascript(browser: Any, server: str) -> None:
    actors = make_actors()
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    enter_credentials(page, server, actors, actors.petra)
    page.wait_for_url(server + "/")  # the privacy officer's home
    assert "Privacy officer, Parkside Primary School" in page.locator("main").inner_text()
    page.goto(server + "/users")
    assert actors.alice.email in page.locator("main").inner_text()
    page.click("button:has-text('Sign out')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You have signed out"
    context.close()
