"""The start page, as a person sees it in Chromium: what the service is and Sign in, no
registry counts; it works without JavaScript and at 320 pixels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import axe_violations
from tests.support.cli import run_cli
from tests.support.feeds import child_row, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_the_start_page_says_what_the_service_is_and_offers_sign_in(
    browser: Any, server: str, feeds: Path
) -> None:
    twin = child_row("N2", given_name="Ewa", nhs_number="4010232145")
    write_feed(feeds, "nhs_demographics", [child_row(), twin])
    run_cli("load", str(feeds), "--quiet")
    page = browser.new_page()
    response = page.goto(server + "/")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "Find who else works with a child"
    # GOV.UK Frontend's stylesheet is served and applied (its font stack on body text).
    font = page.evaluate("getComputedStyle(document.querySelector('p.govuk-body')).fontFamily")
    assert "GDS Transport" in font
    assert "Nowak" not in page.content() and "Children in the index" not in page.content()
    assert axe_violations(page) == []
    page.click("#sign-in")
    page.wait_for_url("**/sign-in")
    page.close()


def test_the_page_works_without_javascript_and_at_320_pixels(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "Find who else works with a child"
    context.close()
    small = browser.new_context(viewport={"width": 320, "height": 640})
    page = small.new_page()
    page.goto(server + "/")
    wide = page.evaluate("document.documentElement.scrollWidth")
    assert wide <= 320  # nothing wider than the screen: no sideways scrolling
    assert axe_violations(page) == []
    small.close()
