"""A real Chromium (Debian's) driven by Playwright, against `contactpoint serve`.

Without Chromium these tests skip, except under CI (`CONTACTPOINT_REQUIRE_BROWSER=1`, set
by .ci/run), where a missing browser is a failure.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# Playwright's sync API keeps an event loop on this thread; Django's guard against async
# database access would then refuse the test database's setup and flush. The browser runs
# in another process, so nothing here is actually concurrent.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None or not AXE.exists():
        message = "Debian's chromium and node_modules/axe-core are needed for browser tests"
        if os.environ.get("CONTACTPOINT_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in the page (WCAG 2.2 A and AA rules) and return its violations."""
    # Evaluated through the DevTools protocol: a <script> tag would be refused by the CSP,
    # and the test must not weaken the CSP to run.
    page.evaluate(AXE.read_text(encoding="utf-8"))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: {type: 'tag', values: "
        "['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def signed_in_page(browser: Any, server: str, actors: Any, who: Any) -> Any:
    """A new browser context signed in as `who` (password, then a current TOTP code),
    on their home page."""
    from tests.actors import PASSWORD

    page = browser.new_context().new_page()
    page.goto(server + "/sign-in")
    page.fill("#email", who.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/second-factor**")
    page.fill("#code", actors.code(who))
    page.click("button:has-text('Continue')")
    page.wait_for_url(server + "/")
    return page
