"""Search results at an address of their own (POST-redirect-GET): Back, reload and the
record's link show them again without searching, auditing or counting again."""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.test import Client, override_settings

from contactpoint.audit.models import Event
from contactpoint.practice.models import Finding
from contactpoint.practice.record import FINDING_LASTS
from contactpoint.registry.models import Child
from contactpoint.search import service
from contactpoint.web.views.children.search import RESULTS
from tests.support.actors import Actors, signed_in
from tests.support.children import PEOPLE, load_children

pytestmark = pytest.mark.django_db(databases=["default", "keys"], transaction=True)

SEARCHED = "child:records:search"


@pytest.fixture
def children(feeds: Path) -> dict[str, Child]:
    return load_children(feeds)


def criteria_for(key: str, **changes: str) -> dict[str, str]:
    given, family, born, _sex, _postcode = PEOPLE[key]
    year, month, day = born.split("-")
    form = {"purpose": "starting_work", "family_name": family, "given_name": given}
    return {**form, "dob-day": day, "dob-month": month, "dob-year": year, **changes}


def results_address(client: Client, key: str) -> str:
    response = client.post("/search", criteria_for(key))
    assert response.status_code == 303, response.status_code
    return str(response["Location"])


def test_a_search_that_finds_sends_the_browser_to_its_results_address(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    address = results_address(alice, "amelia")
    assert urlsplit(address).path.startswith("/search/results/") and not urlsplit(address).query
    given, family, born, _sex, _postcode = PEOPLE["amelia"]
    for typed in (given, family, born, born[:4]):
        assert typed.lower() not in address.lower()
    page = alice.get(address).content.decode()
    assert "Amelia Hartley" in page and "Born in 2015" in page
    assert f'href="/children/{children["amelia"].cpid}"' in page


def test_the_results_show_again_without_searching_auditing_or_counting(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    with override_settings(CONTACTPOINT_SEARCHES_PER_HOUR=1):
        address = results_address(alice, "amelia")
        for _ in range(3):  # reload, Back, the record's link
            response = alice.get(address)
            assert response.status_code == 200 and "Amelia Hartley" in response.content.decode()
        assert Event.objects.filter(action=SEARCHED).count() == 1
        assert Finding.objects.count() == 1
        assert alice.post("/search", criteria_for("maya")).status_code == 429  # one was used


def test_the_record_links_back_to_the_results_that_listed_it(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    address = results_address(alice, "amelia")
    page = alice.get(f"/children/{children['amelia'].cpid}").content.decode()
    assert f'href="{address}"' in page and "Back to search results" in page
    results_address(alice, "maya")
    page = alice.get(f"/children/{children['amelia'].cpid}").content.decode()
    assert f'href="{address}"' in page  # still the results that listed amelia


def test_results_are_the_searchers_own_and_end(children: dict[str, Child], actors: Actors) -> None:
    alice, bob = signed_in(actors.alice), signed_in(actors.bob)
    address = results_address(alice, "amelia")
    response = bob.get(address)  # a colleague given the address sees nothing
    assert response.status_code == 404 and "Amelia" not in response.content.decode()
    assert "no longer available" in response.content.decode()
    assert signed_in(actors.petra).get(address).status_code == 403  # no search permission
    assert urlsplit(Client().get(address)["Location"]).path == "/sign-in"
    session = alice.session
    kept = session[RESULTS]
    for token in kept:
        kept[token]["at"] = time.time() - FINDING_LASTS.total_seconds() - 1
    session[RESULTS] = kept
    session.save()
    response = alice.get(address)
    assert response.status_code == 404 and "Amelia" not in response.content.decode()


def test_a_search_that_matches_nobody_says_so_and_keeps_what_was_typed(
    children: dict[str, Child], actors: Actors
) -> None:
    alice = signed_in(actors.alice)
    response = alice.post("/search", criteria_for("amelia", family_name="Nobodyhere"))
    page = response.content.decode()
    assert response.status_code == 200
    assert service.NO_MATCH.replace("'", "&#39;") in page and "Too many" not in page
    assert 'value="Nobodyhere"' in page


def test_too_many_confident_matches_say_so() -> None:
    assert service.Result((), too_many=True).message == service.TOO_MANY
    assert service.Result(()).message == service.NO_MATCH
