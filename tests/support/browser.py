"""What a person does in Chromium (Playwright pages): sign in, search, check with axe-core."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from contactpoint.access.models import User
from tests.support.actors import PASSWORD, Actors

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"


def enter_credentials(
    page: Any, server: str, actors: Actors, user: User, code: str | None = None
) -> None:
    """At /sign-in: the password, then `code` (or a current TOTP code); no wait after."""
    page.goto(server + "/sign-in")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Continue')")
    page.wait_for_url("**/sign-in/second-factor**")
    page.fill("#code", code or actors.code(user))
    page.click("button:has-text('Continue')")


def search(page: Any, family: str, given: str, day: str, month: str, year: str) -> None:
    page.click("header a:has-text('Find a child')")
    page.wait_for_url("**/search")
    page.check("input[name=purpose][value=starting_work]")
    page.fill("#family_name", family)
    page.fill("#given_name", given)
    page.fill("#dob-day", day)
    page.fill("#dob-month", month)
    page.fill("#dob-year", year)
    page.click("button:has-text('Search')")
    page.wait_for_load_state()


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


def sign_in(
    page: Any, server: str, actors: Any, who: Any, checked: list[str] | None = None
) -> None:
    """From the start page: Sign in, the password, then a current TOTP code, as a person
    does; on `who`'s home page after. With `checked`, axe checks each page on the way (the
    start page, sign-in, second factor, home) and their addresses are added to it."""
    from tests.support.actors import PASSWORD

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
    """Fill in Find a child for one of tests/support/children.py's PEOPLE and press Search."""
    from tests.support.children import PEOPLE

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
