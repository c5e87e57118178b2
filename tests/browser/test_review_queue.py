"""The linkage review queue in Chromium, as Camden's local index team meets it.

A child benefit record that might be either of the made-up twins Amelia and Isla (both
patients of a Camden GP) waits for review. Ian signs in, opens the queue and the item,
reads the record beside each candidate and the waterfalls, tries to decide without saying
why (the error summary), then links the record: every page passes axe-core.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from contactpoint.linkage.models import LinkDecision
from tests.linkage.scenarios import Registry, isla, nameless, nhs
from tests.support.actors import make_actors
from tests.support.browser import axe_violations, signed_in_page
from tests.support.cli import serving

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

# Screenshots for people to look at, when asked for (never committed: var/ is ignored).
SHOTS = os.environ.get("CONTACTPOINT_SCREENSHOTS")


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"review-{name}.png"), full_page=True)


def accessible(page: Any, name: str) -> None:
    assert [(name, v["id"], v["help"]) for v in axe_violations(page)] == []
    shot(page, name)


def test_the_index_team_decides_an_item_on_pages_with_no_accessibility_violations(
    browser: Any, feeds: Path
) -> None:
    actors = make_actors()
    registry = Registry(feeds)
    registry.load("nhs_demographics", [nhs("N1"), isla()])
    registry.load("child_benefit", [nameless()])
    item = registry.item("child_benefit", "CB1")
    amelia = registry.child("nhs_demographics", "N1")

    with serving() as server:
        ian = signed_in_page(browser, server, actors, actors.ian)
        ian.click("#queues a[href='/linkage/review']")  # his home groups his team's pages
        ian.wait_for_url("**/linkage/review")
        assert str(item.pk) in ian.locator("#items").inner_html()
        assert "Amelia" not in ian.locator("main").inner_text()
        accessible(ian, "queue")

        ian.click(f"#item-{item.pk} a")
        ian.wait_for_url(f"**/linkage/review/{item.pk}")
        table = ian.locator("#side-by-side").inner_text()
        assert "Amelia" in table and "Isla" in table and amelia.cpid in table
        assert ian.locator("#waterfall-1 svg rect").count() >= 5
        accessible(ian, "item")

        number = "1" if amelia.cpid in ian.locator("#candidate-1").inner_text() else "2"
        ian.check(f"input[name=decision][value=link-{number}]")
        ian.click("button:has-text('Record the decision')")
        ian.wait_for_load_state()
        assert "There is a problem" in ian.locator(".govuk-error-summary").inner_text()
        accessible(ian, "error")

        ian.check(f"input[name=decision][value=link-{number}]")
        ian.fill("#why", "Same address and birth date; the GP confirmed the twin")
        ian.click("button:has-text('Record the decision')")
        ian.wait_for_url("**/linkage/review")
        assert "linked to candidate" in ian.locator("#notice").inner_text()
        accessible(ian, "decided")

    decision = LinkDecision.objects.get(action="link")
    assert decision.child_id == amelia.pk and str(actors.ian.pk) in decision.decided_by
