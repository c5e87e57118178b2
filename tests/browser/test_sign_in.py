"""Signing in, as a person does it in Chromium: password, authenticator code, and the ends
of a session (idle, disabled by an administrator)."""

from __future__ import annotations

import time
from typing import Any

import pytest

from contactpoint.access.models import User
from tests.actors import PASSWORD, Actors, make_actors
from tests.browser.conftest import axe_violations
from tests.conftest import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def sign_in(page: Any, server: str, actors: Actors, user: User, code: str | None = None) -> None:
    page.goto(server + "/sign-in")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/second-factor**")
    page.fill("#code", code or actors.code(user))
    page.click("button:has-text('Continue')")


def test_a_practitioner_signs_in_with_password_and_authenticator_code(
    browser: Any, server: str
) -> None:
    actors = make_actors()
    page = browser.new_page()
    sign_in(page, server, actors, actors.alice)
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
    sign_in(page, server, actors, actors.bob, code="000000")
    assert page.url.endswith("/sign-in/second-factor?next=/account") or "second-factor" in page.url
    assert page.title().startswith("Error: ")
    summary = page.locator(".govuk-error-summary")
    assert "Enter the 6-digit code" in summary.inner_text()
    assert axe_violations(page) == []
    page.goto(server + "/account")
    assert "/sign-in" in page.url  # still not signed in
    page.close()


def test_an_idle_session_times_out(browser: Any) -> None:
    actors = make_actors()
    with serving({"CONTACTPOINT_SESSION_IDLE_SECONDS": "3"}) as server:
        page = browser.new_page()
        sign_in(page, server, actors, actors.charlie)
        page.wait_for_url(server + "/")
        time.sleep(4)
        page.goto(server + "/account")
        assert "/sign-in" in page.url
        assert page.locator("h1").inner_text() == "Sign in to contactpoint"
        page.close()


def test_a_user_disabled_by_the_index_team_is_thrown_out(browser: Any, server: str) -> None:
    actors = make_actors()
    alice = browser.new_context().new_page()
    sign_in(alice, server, actors, actors.alice)
    alice.wait_for_url(server + "/")
    ian = browser.new_context().new_page()
    sign_in(ian, server, actors, actors.ian)
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
    sign_in(page, server, actors, actors.petra)
    page.wait_for_url(server + "/")  # the privacy officer's home
    assert "Privacy officer, Parkside Primary School" in page.locator("main").inner_text()
    page.goto(server + "/users")
    assert actors.alice.email in page.locator("main").inner_text()
    page.click("button:has-text('Sign out')")
    page.wait_for_load_state()
    assert page.locator("h1").inner_text() == "You have signed out"
    context.close()
