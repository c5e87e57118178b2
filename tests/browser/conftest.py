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


@pytest.fixture(scope="module")
def served(django_db_setup: None) -> Iterator[str]:
    """`contactpoint serve` shared by a module's tests (each makes its own data in the test
    databases, which the server reads): one start instead of one a test."""
    from tests.conftest import serving

    with serving() as url:
        yield url


def sign_in(
    page: Any, server: str, actors: Any, who: Any, checked: list[str] | None = None
) -> None:
    """From the start page: Sign in, the password, then a current TOTP code, as a person
    does; on `who`'s home page after. With `checked`, axe checks each page on the way (the
    start page, sign-in, second factor, home) and their addresses are added to it."""
    from tests.actors import PASSWORD

    def clean() -> None:
        if checked is not None:
            assert_accessible(page, checked)

    page.goto(server + "/")
    clean()
    page.click("#sign-in")
    page.wait_for_url("**/sign-in")
    clean()
    page.fill("#email", who.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/second-factor**")
    clean()
    page.fill("#code", actors.code(who))
    page.click("button:has-text('Continue')")
    page.wait_for_url(server + "/")
    clean()


def yesterdays_alert(actors: Any, principal: str, child_id: Any, kind: str, reason: str) -> Any:
    """A misuse alert about `principal` (a user of school A) for yesterday, as the nightly
    detection raises them, in school A's privacy officer's queue."""
    import datetime as dt

    from django.utils import timezone

    from contactpoint.oversight.models import MisuseAlert

    day = dt.date.today() - dt.timedelta(days=1)
    alert = MisuseAlert(
        kind=kind,
        principal=principal,
        organisation_id=actors.school_a.pk,
        first_day=day,
        last_day=day,
        raised_at=timezone.now(),
        reason=reason,
        count=1,
    )
    alert.child_ids = [str(child_id)]
    alert.save()
    return alert


def fill_search(page: Any, key: str, purpose: str = "starting_work") -> None:
    """Fill in Find a child for one of tests/children.py's PEOPLE and press Search."""
    from tests.children import PEOPLE

    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    page.check(f"input[name=purpose][value={purpose}]")
    page.fill("#family_name", family)
    page.fill("#given_name", given)
    page.fill("#dob-day", day.lstrip("0"))
    page.fill("#dob-month", month.lstrip("0"))
    page.fill("#dob-year", year)
    page.click("button:has-text('Search')")


def signed_in_page(browser: Any, server: str, actors: Any, who: Any) -> Any:
    """A new browser context signed in as `who` (`sign_in`), on their home page."""
    page = browser.new_context().new_page()
    sign_in(page, server, actors, who)
    return page


def assert_accessible(page: Any, checked: list[str]) -> None:
    """axe finds no violation on the page as it is now; its address joins `checked`."""
    assert [(page.url, v["id"], v["help"]) for v in axe_violations(page)] == []
    checked.append(page.url)


def end_step_up(page: Any) -> None:
    """End the signed-in user's step-up window now, as the minutes passing would: their
    next sensitive action asks for the second factor again."""
    import time

    from django.contrib.sessions.backends.db import SessionStore

    from contactpoint.access.middleware import FACTOR_AT

    cookie = next(c for c in page.context.cookies() if c["name"] == "__Host-session")
    session = SessionStore(session_key=cookie["value"])
    session[FACTOR_AT] = time.time() - 3600
    session.save()


def shoot(page: Any, name: str, paper: bool = False) -> None:
    """With CONTACTPOINT_SCREENSHOTS=1, save the page (the whole length, 1000 pixels wide)
    as docs/images/<name>.png for the README and docs; `paper` as it prints."""
    if os.environ.get("CONTACTPOINT_SCREENSHOTS") != "1":
        return
    folder = Path(__file__).resolve().parents[2] / "docs" / "images"
    page.set_viewport_size({"width": 1000, "height": 800})
    if paper:
        page.emulate_media(media="print")
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    page.emulate_media(media="screen")
