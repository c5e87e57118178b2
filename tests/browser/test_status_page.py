"""The service status page, as a person sees it in Chromium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import axe_violations
from tests.conftest import child_row, run_cli, write_feed

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)


def test_the_status_page_says_the_service_is_up_and_counts_children(
    browser: Any, server: str, feeds: Path
) -> None:
    twin = child_row("N2", given_name="Ewa", nhs_number="4010232145")
    write_feed(feeds, "nhs_demographics", [child_row(), twin])
    run_cli("load", str(feeds), "--quiet")
    page = browser.new_page()
    response = page.goto(server + "/")
    assert response is not None and response.status == 200
    assert page.locator("h1").inner_text() == "The service is up"
    assert page.locator("#children-count").inner_text() == "2"
    # GOV.UK Frontend's stylesheet is served and applied (its font stack on body text).
    font = page.evaluate("getComputedStyle(document.querySelector('p.govuk-body')).fontFamily")
    assert "GDS Transport" in font
    assert "Nowak" not in page.content()
    assert axe_violations(page) == []
    page.close()


def test_the_page_works_without_javascript(browser: Any, server: str) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server + "/")
    assert page.locator("h1").inner_text() == "The service is up"
    context.close()
