"""axe-core finds no WCAG 2.2 A/AA violation on any page of the web application."""

from __future__ import annotations

from typing import Any

import pytest

from tests.actors import PASSWORD, make_actors
from tests.browser.conftest import axe_violations

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
    for path in ("/", "/sign-in", "/sign-in/forgotten-password", "/no-such-page"):
        check(anonymous, server + path, checked)
    anonymous.goto(server + "/sign-in/forgotten-password")
    anonymous.fill("#email", "someone@example.org")
    anonymous.click("button:has-text('Ask for a reset')")
    assert axe_violations(anonymous) == []
    anonymous.goto(server + "/sign-in")
    anonymous.click("button:has-text('Continue')")  # empty: the error summary
    assert axe_violations(anonymous) == []

    page = browser.new_context().new_page()
    page.goto(server + "/sign-in")
    page.fill("#email", actors.ian.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/second-factor**")
    assert axe_violations(page) == []
    page.fill("#code", actors.code(actors.ian))
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/account")
    for path in (
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
    assert len(checked) == 14
